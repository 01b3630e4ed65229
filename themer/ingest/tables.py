"""Transition alias: the names ``themer.ingest.tables`` held before ingest was split.

New code imports from :mod:`themer.ingest` (or the room itself): reading files in
:mod:`~themer.ingest.reader`, column mappings in :mod:`~themer.ingest.mapping`, row checks in
:mod:`~themer.ingest.validation`, the end-to-end loader in :mod:`~themer.ingest.streaming`.
Nothing inside ``themer.ingest`` imports this module.
"""

from __future__ import annotations

from themer.ingest.mapping import (
    MAX_SEGMENT_VALUES,
    ColumnMapping,
    column_key,
    detect_mapping,
    detect_segments,
    load_mapping,
)
from themer.ingest.reader import MAX_FILE_BYTES, READABLE, iter_table, read_table, text_list
from themer.ingest.streaming import DETECT_ROWS, iter_responses, load_responses, merge_results
from themer.ingest.validation import MAX_PROBLEMS_SHOWN, IdIndex, LoadResult, validate_responses

__all__ = [
    "DETECT_ROWS",
    "MAX_FILE_BYTES",
    "MAX_PROBLEMS_SHOWN",
    "MAX_SEGMENT_VALUES",
    "READABLE",
    "ColumnMapping",
    "IdIndex",
    "LoadResult",
    "column_key",
    "detect_mapping",
    "detect_segments",
    "iter_responses",
    "iter_table",
    "load_mapping",
    "load_responses",
    "merge_results",
    "read_table",
    "text_list",
    "validate_responses",
]
