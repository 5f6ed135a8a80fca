"""Write an audit's tables as Parquet with the fixed schemas.

Transforms:

* :class:`WriteTables`: ``{table name: PCollection of row dicts}`` in; each
  table becomes Parquet shards ``OUTPUT/<name>/part-SSSSS-of-NNNNN.parquet``
  with its schema from :mod:`photosieve.schemas`.

Beam's file sinks write temporary files and rename them when the step is
committed: a retried bundle never leaves duplicate rows behind.

See also: :class:`photosieve.transforms.ledger.WriteLedger` for the run's counts.
"""

from __future__ import annotations

import argparse

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.io.parquetio import WriteToParquet

from photosieve import schemas
from photosieve.cli import values
from photosieve.run_config import OUTPUT_MODES

__all__ = ["WriteTables", "table_prefix"]

PARQUET_SUFFIX = ".parquet"
SHARD_PREFIX = "part"


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
        return {
            name: rows | f"Write{name.capitalize()}" >> self._sink(name)
            for name, rows in tables.items()
        }

    def _sink(self, name: str) -> WriteToParquet:
        """One table's Parquet sink: its schema, under ``output_dir/<name>/``."""
        return WriteToParquet(
            table_prefix(self._output_dir, name),
            schema=schemas.TABLES[name],
            file_name_suffix=PARQUET_SUFFIX,
            num_shards=self._num_shards,
            shard_name_template=self._shard_name_template,
        )

    def display_data(self):
        return {"output_dir": self._output_dir, "num_shards": self._num_shards}


def _check_names(tables: dict) -> None:
    """Refuse, at construction of the pipeline, a table with no schema to write it with."""
    unknown = sorted(set(tables) - set(schemas.TABLES))
    if unknown:
        raise ValueError(f"no schema for table(s) {unknown}; known: {sorted(schemas.TABLES)}")
