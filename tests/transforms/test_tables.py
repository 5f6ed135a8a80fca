"""WriteTables and WriteLedger: Parquet round trips against the schema constants, and the ledger file."""

from __future__ import annotations

import json
from collections import Counter

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.options.pipeline_options import PipelineOptions
from apache_beam.runners.portability.fn_api_runner import FnApiRunner
from apache_beam.testing.test_pipeline import TestPipeline as BeamTestPipeline

from photosieve import schemas
from photosieve.hashing import HashPlan, ImageHasher
from photosieve.ledger import nest_counts
from photosieve.transforms import tables as tables_module
from photosieve.transforms.ledger import LEDGER_FILE, WriteLedger
from photosieve.transforms.tables import WriteTables
from tests.transforms import docstring_examples, samples

RUNNER = "FnApiRunner"  # see tests/transforms/test_reading.py


def _rows() -> dict[str, list[dict]]:
    hasher = ImageHasher(HashPlan.parse("pdq-dihedral,phash,md5"))
    good = hasher.hash_bytes("a.png", samples.encode(samples.picture(1), "PNG"))
    bad = hasher.hash_bytes("b.jpg", b"\xff\xd8\xff broken")
    match = {
        schemas.URI: "a.png",
        schemas.FRAME: 0,
        schemas.ALGORITHM: "pdq",
        schemas.QUERY_HASH: "00" * 32,
        schemas.ORIENTATION: "rotate90",
        schemas.QUALITY: 100,
        schemas.LIST_NAME: "known",
        schemas.LIST_VERSION: "ab" * 32,
        schemas.LIST_ROLE: "match",
        schemas.ENTRY_IDS: ["17", "42"],
        schemas.LABELS: ["case-1"],
        schemas.MATCHED_HASH: "01" + "00" * 31,
        schemas.DISTANCE: 1.0,
        schemas.THRESHOLD: 31.0,
        schemas.STATUS: schemas.STATUS_MATCH,
        schemas.RUN_ID: "r",
        schemas.MATCHED_AT: 1_700_000_000_000_000,
    }
    return {
        schemas.HASHES: schemas.hash_rows(good, mtime_us=1_700_000_000_000_000, run_id="r"),
        schemas.ERRORS: schemas.error_rows(bad, mtime_us=None, run_id="r"),
        schemas.MATCHES: [match],
    }


def _normalised(table) -> list[str]:
    # JSON with sorted keys: a stable form to compare rows (timestamps as text).
    return sorted(json.dumps(row, sort_keys=True, default=str) for row in table.to_pylist())


def test_round_trip_with_the_fixed_schemas(tmp_path):
    rows = _rows()
    with BeamTestPipeline(runner=RUNNER) as p:
        tables = {
            name: p | f"Create{name}" >> beam.Create(table_rows)
            for name, table_rows in rows.items()
        }
        _ = tables | WriteTables(str(tmp_path), num_shards=1, shard_name_template="")
    for name, table_rows in rows.items():
        table = pq.read_table(tmp_path / name / "part.parquet")
        assert table.schema.equals(schemas.TABLES[name]), name
        filled = [
            {field: row.get(field) for field in schemas.TABLES[name].names} for row in table_rows
        ]
        assert _normalised(table) == _normalised(
            pa.Table.from_pylist(filled, schema=schemas.TABLES[name])
        )
    assert pq.read_metadata(tmp_path / schemas.HASHES / "part.parquet").num_rows == len(
        rows[schemas.HASHES]
    )


def test_an_empty_table_is_a_file_with_the_schema(tmp_path):
    with BeamTestPipeline(runner=RUNNER) as p:
        _ = {schemas.MATCHES: p | beam.Create([])} | WriteTables(
            str(tmp_path), num_shards=1, shard_name_template=""
        )
    table = pq.read_table(tmp_path / schemas.MATCHES / "part.parquet")
    assert table.num_rows == 0 and table.schema.equals(schemas.MATCHES_SCHEMA)


def test_a_table_without_a_schema_is_refused(tmp_path):
    p = BeamTestPipeline(runner=RUNNER)
    with pytest.raises(ValueError, match="no schema for table"):
        _ = {"thumbnails": p | beam.Create([{}])} | WriteTables(str(tmp_path))


def test_ledgers_are_summed_into_one_json_file(tmp_path):
    first = [
        Counter({("objects", "read"): 2}),
        Counter({("objects", "read"): 1, ("files", "listed"): 3}),
    ]
    second = [Counter({("errors", "class", "corrupt"): 1})]
    with BeamTestPipeline(runner=RUNNER) as p:
        ledgers = (p | "First" >> beam.Create(first), p | "Second" >> beam.Create(second))
        _ = ledgers | WriteLedger(str(tmp_path))
    assert json.loads((tmp_path / LEDGER_FILE).read_text()) == {
        "errors": {"class": {"corrupt": 1}},
        "files": {"listed": 3},
        "objects": {"read": 3},
    }


def test_no_ledgers_still_write_an_empty_ledger(tmp_path):
    with BeamTestPipeline(runner=RUNNER) as p:
        _ = (p | beam.Create([]),) | WriteLedger(str(tmp_path))
    assert json.loads((tmp_path / LEDGER_FILE).read_text()) == {}


def test_nest_counts_nests_tuple_keys():
    assert nest_counts({("a", "b", "c"): 1, ("a", "d"): 2}) == {"a": {"b": {"c": 1}, "d": 2}}


def test_display_data_reports_the_configuration():
    assert WriteTables("gs://b/out", num_shards=3).display_data() == {
        "output_dir": "gs://b/out",
        "num_shards": 3,
    }


def test_docstring_examples():
    docstring_examples.check(tables_module)


def _hash_rows(n: int) -> list[dict]:
    row = _rows()[schemas.HASHES][0]
    return [{**row, schemas.URI: f"in/{i:04d}.png"} for i in range(n)]


def _uris(table_dir) -> list[str]:
    return sorted(pq.read_table(table_dir).column(schemas.URI).to_pylist())


def test_every_bundles_rows_land_once_even_when_retried_and_no_temporary_file_is_left(tmp_path):
    rows = _hash_rows(250)
    # Two workers split the rows over bundles (several temporary files per table), and
    # every bundle is run twice (bundle_repeat): a retried bundle's files must not count.
    options = PipelineOptions(["--direct_running_mode=multi_threading", "--direct_num_workers=2"])
    with beam.Pipeline(runner=FnApiRunner(bundle_repeat=1), options=options) as p:
        hashes = p | beam.Create(rows) | beam.Reshuffle()
        _ = {schemas.HASHES: hashes, schemas.ERRORS: p | "None" >> beam.Create([])} | WriteTables(
            str(tmp_path)
        )
    assert _uris(tmp_path / schemas.HASHES) == sorted(r[schemas.URI] for r in rows)
    files = sorted(f.name for f in (tmp_path / schemas.HASHES).iterdir())
    count = len(files)
    assert count >= 2  # the test is about several bundles
    assert files == [f"part-{i:05d}-of-{count:05d}.parquet" for i in range(count)]
    errors = list((tmp_path / schemas.ERRORS).iterdir())
    assert len(errors) == 1 and pq.read_table(errors[0]).schema.equals(schemas.ERRORS_SCHEMA)
    assert sorted(f.name for f in tmp_path.iterdir()) == [schemas.ERRORS, schemas.HASHES]


def test_num_shards_gives_exactly_that_many_files_with_every_row(tmp_path):
    rows = _hash_rows(10)
    with BeamTestPipeline(runner=RUNNER) as p:
        _ = {schemas.HASHES: p | beam.Create(rows)} | WriteTables(str(tmp_path), num_shards=3)
    files = sorted(f.name for f in (tmp_path / schemas.HASHES).iterdir())
    assert files == [f"part-{i:05d}-of-00003.parquet" for i in range(3)]
    assert _uris(tmp_path / schemas.HASHES) == sorted(r[schemas.URI] for r in rows)


def _shard(temp_dir, name: str, rows: list[dict]) -> tuple[str, str]:
    writer = tables_module._ShardWriter(
        str(temp_dir / name / f"{len(rows)}.parquet"), schemas.TABLES[name]
    )
    for row in rows:
        writer.add(row)
    writer.close()
    return name, writer.path


def test_only_committed_bundles_files_are_kept_and_a_repeated_commit_changes_nothing(tmp_path):
    output, temp_dir = tmp_path / "out", tmp_path / "out" / ".tables-tmp-x"
    (temp_dir / schemas.HASHES).mkdir(parents=True)
    committed = [
        _shard(temp_dir, schemas.HASHES, _hash_rows(3)),
        _shard(temp_dir, schemas.HASHES, _hash_rows(5)),
    ]
    _shard(temp_dir, schemas.HASHES, _hash_rows(7))  # a failed bundle's file: never reported
    commit = tables_module._CommitTablesFn(str(output), str(temp_dir), [schemas.HASHES], 0, None)
    list(commit.process(committed))
    table = pq.read_table(output / schemas.HASHES)
    assert table.num_rows == 8 and not temp_dir.exists()
    list(commit.process(committed))  # a retried commit: the files were moved already
    assert pq.read_table(output / schemas.HASHES).num_rows == 8
