"""Write an audit's tables as Parquet with the fixed schemas.

Transforms:

* :class:`WriteTables`: ``{table name: PCollection of row dicts}`` in; each
  table becomes Parquet shards ``OUTPUT/<name>/part-SSSSS-of-NNNNN.parquet``
  with its schema from :mod:`photosieve.schemas`.

One sink writes all four tables (each Beam file sink is ~10 steps, and a
run's fixed cost grows with its steps): every bundle writes one temporary
Parquet file per table it holds, and one final step moves the files of the
committed bundles into place, so a retried bundle never leaves duplicate
rows behind, and readers never see a temporary file (they are kept in a
``.tables-tmp-*`` folder beside the tables, removed at the end).

See also: :class:`photosieve.transforms.ledger.WriteLedger` for the run's counts.
"""

from __future__ import annotations

import argparse
import uuid

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
from apache_beam.io.filesystems import FileSystems
from apache_beam.transforms.window import GlobalWindows

from photosieve import schemas
from photosieve.cli import values
from photosieve.run_config import OUTPUT_MODES

__all__ = ["WriteTables", "table_prefix"]

PARQUET_SUFFIX = ".parquet"
SHARD_PREFIX = "part"
_SHARD_TEMPLATE = "-SSSSS-of-NNNNN"  # Beam's default shard name template
# Bundles' files are written here, inside the output, and moved into the tables at the end.
TEMP_PREFIX = ".tables-tmp-"
# Rows per record batch a bundle's writer sends to Parquet: bounded memory per bundle.
ROWS_PER_BATCH = 10_000


def table_prefix(output_dir: str, table: str) -> str:
    """``OUTPUT/<table>/part``: the path prefix of a table's shards."""
    return FileSystems.join(output_dir, table, SHARD_PREFIX)


class WriteTables(beam.PTransform):
    """Writes each table's rows as Parquet under ``output_dir/<table>/``.

    Apply to a dict of PCollections keyed by table name (``hashes``,
    ``errors``, ``matches``, ``files``); each row is a dict with every
    column of the table's schema:

    >>> import shutil, tempfile
    >>> import pyarrow.parquet as pq
    >>> from photosieve import schemas
    >>> row = dict.fromkeys(schemas.ERRORS_SCHEMA.names)
    >>> row.update(uri="in/a.jpg", stage="decode", error="corrupt", run_id="r1")
    >>> out = tempfile.mkdtemp()
    >>> with beam.Pipeline("FnApiRunner") as p:
    ...     _ = {"errors": p | beam.Create([row])} | WriteTables(out, num_shards=1)
    >>> pq.read_table(f"{out}/errors").select(["uri", "error"]).to_pylist()
    [{'uri': 'in/a.jpg', 'error': 'corrupt'}]
    >>> shutil.rmtree(out)

    Args:
        output_dir: any Beam filesystem path.
        num_shards: files per table; 0 lets the runner decide (recommended,
            except in tests that want one predictable file).
        shard_name_template: Beam's template; ``""`` with ``num_shards=1``
            writes ``<table>/part.parquet``. Default: ``-SSSSS-of-NNNNN``.

    Raises:
        ValueError: a table name without a schema in ``photosieve.schemas.TABLES``.
    """

    @staticmethod
    def add_arguments(parser: argparse.ArgumentParser) -> None:
        """The output flags: where the tables go and how they are written."""
        parser.add_argument("-o", "--output", help="Output directory (any Beam filesystem). Required.")
        parser.add_argument(
            "--overwrite",
            action="store_true",
            help="Replace the tables and summary of a previous run in --output. Default: refuse.",
        )
        parser.add_argument(
            "--num-shards",
            type=values.at_least(0),
            default=0,
            help="Parquet files per table; 0 lets the runner choose (recommended). Default: 0.",
        )
        parser.add_argument(
            "--output-mode",
            choices=OUTPUT_MODES,
            default="private",
            help="private: a local --output is created readable by you only (directories 0700, "
            "files 0600: the tables say which paths matched which list); shared: as your umask "
            "says. Object stores keep their own access rules. Default: private.",
        )

    def __init__(
        self, output_dir: str, *, num_shards: int = 0, shard_name_template: str | None = None
    ):
        super().__init__()
        self._output_dir = output_dir
        self._num_shards = num_shards
        self._shard_name_template = shard_name_template

    def expand(self, tables: dict):
        _check_names(tables)
        names = sorted(tables)
        temp_dir = FileSystems.join(self._output_dir, f"{TEMP_PREFIX}{uuid.uuid4().hex}")
        tagged = [
            tables[name] | f"Tag{name.capitalize()}" >> beam.Map(lambda row, n=name: (n, row))
            for name in names
        ]
        if not tagged:
            return {}
        shards = (
            tuple(tagged)
            | "FlattenTables" >> beam.Flatten()
            | "WriteShards" >> beam.ParDo(_WriteShardsFn(temp_dir))
            | "CollectShards" >> beam.combiners.ToList()
        )
        committed = shards | "CommitTables" >> beam.ParDo(
            _CommitTablesFn(
                self._output_dir, temp_dir, names, self._num_shards, self._shard_name_template
            )
        )
        return {name: committed for name in names}

    def display_data(self):
        return {"output_dir": self._output_dir, "num_shards": self._num_shards}


class _WriteShardsFn(beam.DoFn):
    """(table, row) -> (table, temporary file): one Parquet file per table per bundle.

    Rows are written in record batches of :data:`ROWS_PER_BATCH` through one
    open ``ParquetWriter`` per table, so a bundle's rows are never all held
    in memory. The files go to a temporary folder with unique names: a
    retried bundle writes new files, and only the files of committed bundles
    reach :class:`_CommitTablesFn`.
    """

    def __init__(self, temp_dir: str):
        self._temp_dir = temp_dir

    def start_bundle(self) -> None:
        self._open: dict[str, _ShardWriter] = {}

    def process(self, element):
        name, row = element
        writer = self._open.get(name)
        if writer is None:
            path = FileSystems.join(self._temp_dir, name, f"{uuid.uuid4().hex}{PARQUET_SUFFIX}")
            writer = self._open[name] = _ShardWriter(path, schemas.TABLES[name])
        writer.add(row)

    def finish_bundle(self):
        for name, writer in sorted(self._open.items()):
            writer.close()
            yield GlobalWindows.windowed_value((name, writer.path))
        self._open = {}


class _ShardWriter:
    """One temporary Parquet file being written, on any Beam filesystem."""

    def __init__(self, path: str, schema) -> None:
        self.path = path
        self._schema = schema
        self._handle = FileSystems.create(path)
        self._writer = pq.ParquetWriter(self._handle, schema)
        self._pending: list[dict] = []

    def add(self, row: dict) -> None:
        self._pending.append(row)
        if len(self._pending) >= ROWS_PER_BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._writer.write_table(pa.Table.from_pylist(self._pending, schema=self._schema))
            self._pending = []

    def close(self) -> None:
        """Write what is pending and close the file."""
        self._flush()
        self._writer.close()
        self._handle.close()


class _CommitTablesFn(beam.DoFn):
    """Every committed temporary file -> the tables' final files; then the temporary folder goes.

    Runs once (one element: the list of every bundle's files). Files are
    named in a fixed order, ``<table>/part-SSSSS-of-NNNNN.parquet`` (Beam's
    default template); each is complete when it appears (a rename of a
    closed file). A table without rows gets one empty file with its schema.
    With ``num_shards`` set, a table is rewritten into exactly that many
    files (for tests and small outputs: it reads the table in this one step).
    Re-running after a failure part-way is safe: a file already moved is
    not moved again.
    """

    def __init__(
        self,
        output_dir: str,
        temp_dir: str,
        names: list[str],
        num_shards: int,
        shard_name_template: str | None,
    ):
        self._output_dir = output_dir
        self._temp_dir = temp_dir
        self._names = names
        self._num_shards = num_shards
        self._template = shard_name_template

    def process(self, shards: list[tuple[str, str]]):
        by_table: dict[str, list[str]] = {name: [] for name in self._names}
        for name, path in shards:
            by_table[name].append(path)
        for name, paths in by_table.items():
            self._commit(name, sorted(paths))
        if FileSystems.exists(self._temp_dir):
            FileSystems.delete([self._temp_dir])
        return []

    def _commit(self, name: str, paths: list[str]) -> None:
        table_dir = FileSystems.join(self._output_dir, name)
        if not FileSystems.exists(table_dir):
            FileSystems.mkdirs(table_dir)
        schema = schemas.TABLES[name]
        if not paths or (self._num_shards and len(paths) != self._num_shards):
            count = self._num_shards or 1
            self._rewrite(name, paths, count, schema)
            return
        targets = [self._final(name, i, len(paths)) for i in range(len(paths))]
        moves = [(src, dst) for src, dst in zip(paths, targets) if FileSystems.exists(src)]
        if moves:
            FileSystems.rename([src for src, _ in moves], [dst for _, dst in moves])

    def _rewrite(self, name: str, paths: list[str], count: int, schema) -> None:
        """``count`` files of the table's rows, in the order of ``paths``."""
        parts = []
        for path in paths:
            with FileSystems.open(path) as handle:
                parts.append(pq.read_table(handle, schema=schema))
        table = pa.concat_tables(parts) if parts else schema.empty_table()
        step = -(-table.num_rows // count) if table.num_rows else 0
        for i in range(count):
            piece = table.slice(i * step, step) if step else table.slice(0, 0)
            with FileSystems.create(self._final(name, i, count)) as handle:
                pq.write_table(piece, handle)

    def _final(self, name: str, index: int, count: int) -> str:
        template = _SHARD_TEMPLATE if self._template is None else self._template
        shard = template.replace("SSSSS", f"{index:05d}").replace("NNNNN", f"{count:05d}")
        return FileSystems.join(self._output_dir, name, f"{SHARD_PREFIX}{shard}{PARQUET_SUFFIX}")


def _check_names(tables: dict) -> None:
    """Refuse, at construction of the pipeline, a table with no schema to write it with."""
    unknown = sorted(set(tables) - set(schemas.TABLES))
    if unknown:
        raise ValueError(f"no schema for table(s) {unknown}; known: {sorted(schemas.TABLES)}")
