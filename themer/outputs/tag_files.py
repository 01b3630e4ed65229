"""Tag files: write the tag rows of a run (CSV, Parquet, JSON lines, JSON) and read them back.

Writing streams chunk by chunk into a temp file beside the target and renames it only when
complete, so a crash never leaves a half file under the final name. Reading checks that the
file is a ``themer tag`` output and keeps the rows of the responses being analysed.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from themer.errors import Errors
from themer.schema import TAG_COLUMNS, TAG_KEEP

__all__ = ["TAG_SUFFIXES", "atomic_path", "read_tags", "write_json", "write_tags"]

TAG_SUFFIXES = (".csv", ".parquet", ".jsonl", ".json")


def atomic_path(path: Path) -> Path:
    """The temp file a write goes to before it is renamed to ``path``."""
    return path.with_name(f".{path.name}.tmp")


def write_json(path: Path, data: Any) -> None:
    """``data`` as indented JSON, atomically."""
    tmp = atomic_path(path)
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    tmp.replace(path)


def check_tag_path(path: Path) -> str:
    suffix = path.suffix.lower()
    if suffix not in TAG_SUFFIXES:
        raise Errors.THM117.error(path=path)
    return suffix


def write_tags(path: Path, produce: Callable[[Callable[[pd.DataFrame], None]], None]) -> int:
    """Stream the tag frames ``produce(sink)`` hands to ``sink`` into ``path``; the row count.

    The format follows the suffix: .csv, .parquet, .jsonl or .json (one array)."""
    suffix = check_tag_path(path)
    tmp = atomic_path(path)
    count = 0
    writer: Any = None
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            first = True
            if suffix == ".json":
                handle.write("[")

            def sink(tags: pd.DataFrame) -> None:
                nonlocal first, count, writer
                count += len(tags)
                if suffix == ".csv":
                    tags.to_csv(handle, header=first, index=False)
                elif suffix == ".parquet":
                    writer = _write_parquet(tmp, tags, writer)
                else:
                    _write_records(handle, tags.to_dict(orient="records"), suffix, first)
                first = False

            produce(sink)
            if suffix == ".json":
                handle.write("]\n")
        if writer is not None:
            writer.close()
        elif suffix == ".parquet":
            _write_parquet(tmp, pd.DataFrame(columns=TAG_COLUMNS), None).close()
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def _write_parquet(tmp: Path, tags: pd.DataFrame, writer: Any) -> Any:
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(tags, preserve_index=False)
    writer = writer or pq.ParquetWriter(str(tmp), table.schema)
    writer.write_table(table)
    return writer


def _write_records(handle: Any, records: Iterable[dict[str, Any]], suffix: str,
                   first: bool) -> None:
    for record in records:
        if suffix == ".json":
            handle.write("" if first else ",\n")
        handle.write(json.dumps(record, ensure_ascii=False))
        if suffix == ".jsonl":
            handle.write("\n")
        first = False


def read_tags(path: Path, responses: pd.DataFrame, *, keep_text: bool = False
              ) -> pd.DataFrame:
    """Tag rows written by ``themer tag``, restricted to the loaded responses (``keep_text``:
    with the statement text and confidence, for quotes)."""
    from themer.analytics.themes import positions
    from themer.ingest import read_table

    frame = read_table(path)
    missing = [c for c in TAG_KEEP if c not in frame.columns]
    if missing:
        raise Errors.THM156.error(path=path, missing=missing)
    bad = ~frame["kind"].isin(["area", "type"])
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise Errors.THM157.error(path=path, row=row + 2, kind=frame["kind"].iloc[row])
    extra = [c for c in ("statement", "confidence") if keep_text and c in frame.columns]
    tags = frame.loc[positions(frame["response_id"], responses["response_id"]) >= 0,
                     [*TAG_KEEP, *extra]]
    if "confidence" in tags.columns:
        tags["confidence"] = pd.to_numeric(tags["confidence"], errors="coerce").fillna(0.0)
    if tags.empty:
        raise Errors.THM158.error(path=path)
    return tags.reset_index(drop=True)
