"""Previous runs' tables written with plain pyarrow, for the repeat-audit transforms' tests."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from photosieve import schemas


def write_table(output: Path, table: str, rows: list[dict], *, shards: int = 1) -> None:
    """A previous run's table, in ``shards`` files with one row group per row (splits a file's rows)."""
    (output / table).mkdir(parents=True, exist_ok=True)
    for shard in range(shards):
        part = rows[shard::shards]
        path = output / table / f"part-{shard}.parquet"
        pq.write_table(
            pa.Table.from_pylist(part, schema=schemas.TABLES[table]), path, row_group_size=1
        )
