"""Load a survey export end to end: read, map (vendor profile, detection or a mapping), validate.

``iter_responses`` streams a file chunk by chunk in bounded memory: the first rows decide the
vendor profile (:mod:`themer.ingest.profiles`) or the detected column mapping
(:mod:`themer.ingest.mapping`), then every chunk is validated against that one mapping
(:mod:`themer.ingest.validation`) with the file's own row numbers and duplicate ids found
across chunks. ``load_responses`` is the same in one call, ``merge_results`` joins the chunks.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import pandas as pd

from themer.ingest.mapping import ColumnMapping, detect_mapping
from themer.ingest.profiles import apply_profile, detect_profile
from themer.ingest.reader import iter_table
from themer.ingest.validation import IdIndex, LoadResult, validate_responses

__all__ = ["DETECT_ROWS", "iter_responses", "load_responses", "merge_results"]

DETECT_ROWS = 50  # rows a vendor profile and the column detection see (header rows included)


def _first_rows(chunks: Iterator[pd.DataFrame], chunk_rows: int) -> pd.DataFrame:
    """The first chunks as one frame: at least ``DETECT_ROWS`` rows where the file has them."""
    first = list(itertools.islice(chunks, max(1, -(-DETECT_ROWS // chunk_rows))))
    return pd.concat(first, ignore_index=True) if len(first) > 1 else first[0]


def _mapped(frame: pd.DataFrame, source: str, detect: Mapping[str, Any]
            ) -> tuple[pd.DataFrame, ColumnMapping, str, int]:
    """(answer rows, mapping, profile name, description rows) from a vendor profile or, when
    none matches or the caller named the columns, from the column names."""
    explicit = any(detect.get(k) for k in ("id_col", "score_col", "text_cols", "date_col"))
    vendor = None if explicit else detect_profile(frame)
    if vendor is None:
        return frame, detect_mapping(frame, source=source, **detect), "generic", 0
    frame, mapping = apply_profile(frame, vendor, source=source)
    mapping = mapping.model_copy(update={
        "segments": {**mapping.segments, **dict(detect.get("segments") or {})},
        "survey_type": detect.get("survey_type_col"),
        "scale": detect.get("scale", "nps")})
    return frame, mapping, vendor.name, vendor.header_rows


def iter_responses(
    path: str | Path,
    mapping: ColumnMapping | None = None,
    *,
    strict: bool = True,
    encoding: str = "utf-8-sig",
    chunk_rows: int = 50_000,
    **detect: Any,
) -> Iterator[LoadResult]:
    """Read, map and validate a survey export chunk by chunk (bounded memory for big files).

    The vendor profile and the column mapping come from the first chunk; every chunk is
    validated against them, row numbers are the file's own and duplicate ids are found across
    chunks. In strict mode the first chunk with a bad row raises (a caller that writes must
    write all chunks in one transaction to leave nothing half-written). ``detect``: the
    keyword arguments of :func:`~themer.ingest.mapping.detect_mapping` (ignored with a
    ``mapping``)."""
    chunks = iter_table(path, encoding=encoding, chunk_rows=chunk_rows)
    frame = _first_rows(chunks, chunk_rows)
    profile, offset = "mapping", 0
    if mapping is None:
        frame, mapping, profile, offset = _mapped(frame, str(path), detect)
    seen = IdIndex()
    for data in itertools.chain([frame], chunks):
        result = validate_responses(data, mapping, source=str(path), strict=strict,
                                    row_offset=offset, seen=seen)
        offset += len(data)
        yield replace(result, profile=profile)


def load_responses(
    path: str | Path,
    mapping: ColumnMapping | None = None,
    *,
    strict: bool = True,
    encoding: str = "utf-8-sig",
    **detect: Any,
) -> LoadResult:
    """Read, map and validate a survey export in one call (all rows in memory)."""
    return merge_results(list(iter_responses(path, mapping, strict=strict, encoding=encoding,
                                             **detect)))


def merge_results(parts: Sequence[LoadResult]) -> LoadResult:
    """The chunks of one streamed file as one result: rows, problems and input rows added up."""
    first = parts[0]
    return replace(
        first,
        responses=pd.concat([p.responses for p in parts], ignore_index=True)
        if len(parts) > 1 else first.responses,
        problems=[problem for p in parts for problem in p.problems],
        n_input_rows=sum(p.n_input_rows for p in parts))
