"""Survey exports in, validated response frames out.

Rooms, each depending only on those above it::

    reader      read a file as a frame of strings (CSV/TSV/TXT, XLSX, JSON, JSONL, Parquet)
    mapping     ColumnMapping: from a mapping YAML, the caller, or common column names
    profiles    vendor exports (Qualtrics, SurveyMonkey, ...) -> rows + ColumnMapping
    validation  row checks, problems, BadRowsError; the response frame and LoadResult
    streaming   read -> map -> validate, chunk by chunk (iter_responses, load_responses)

``themer.ingest`` imports pandas, numpy, yaml and pydantic, never the analytics, models,
store, settings or an interface (CLI, API). ``themer.ingest`` re-exports the names it
held before the split.
"""

from __future__ import annotations

from themer.ingest.mapping import (
    ColumnMapping,
    column_key,
    detect_mapping,
    detect_segments,
    load_mapping,
)
from themer.ingest.profiles import PROFILES, Profile, apply_profile, detect_profile
from themer.ingest.reader import iter_table, read_table, text_list
from themer.ingest.streaming import iter_responses, load_responses, merge_results
from themer.ingest.validation import (
    MAX_PROBLEMS_SHOWN,
    IdIndex,
    LoadResult,
    score_categories,
    validate_responses,
)

__all__ = [
    "MAX_PROBLEMS_SHOWN",
    "PROFILES",
    "ColumnMapping",
    "IdIndex",
    "LoadResult",
    "Profile",
    "apply_profile",
    "column_key",
    "detect_mapping",
    "detect_profile",
    "detect_segments",
    "iter_responses",
    "iter_table",
    "load_mapping",
    "load_responses",
    "merge_results",
    "read_table",
    "score_categories",
    "text_list",
    "validate_responses",
]
