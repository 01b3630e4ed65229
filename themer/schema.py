"""Shared constants and record shapes: what every layer agrees on, with no behaviour.

The one place for the words that cross module boundaries: the ``unassigned`` label, the NPS
groups and declared score scales, and the columns (with their dtypes) of statement and tag
frames. Nothing here imports from themer.
"""

from __future__ import annotations

from typing import Literal

__all__ = [
    "NPS_GROUPS",
    "SCALES",
    "STATEMENT_COLUMNS",
    "STATEMENT_TYPES",
    "TAG_COLUMNS",
    "TAG_KEEP",
    "TAG_TYPES",
    "UNASSIGNED",
    "Category",
    "Scale",
]

UNASSIGNED = "unassigned"  # the label of a statement no label of a kind reached

Category = Literal["promoter", "passive", "detractor"]
NPS_GROUPS: tuple[Category, Category, Category] = ("promoter", "passive", "detractor")

Scale = Literal["nps", "stars5"]
# Declared scale mappings: score -> category. Never guessed from the data.
SCALES: dict[str, dict[int, str]] = {
    "nps": {s: ("promoter" if s >= 9 else "passive" if s >= 7 else "detractor") for s in range(11)},
    "stars5": {5: "promoter", 4: "passive", 3: "detractor", 2: "detractor", 1: "detractor"},
}

STATEMENT_COLUMNS = ["response_id", "statement_id", "question", "start", "end", "statement"]
TAG_COLUMNS = [*STATEMENT_COLUMNS, "kind", "label", "confidence"]
TAG_TYPES = {"response_id": "str", "statement_id": "str", "question": "str", "start": "int64",
             "end": "int64", "statement": "str", "kind": "str", "label": "str",
             "confidence": "float64"}  # the dtypes of a tag frame, column by column
STATEMENT_TYPES = {column: TAG_TYPES[column] for column in STATEMENT_COLUMNS}
TAG_KEEP = ["response_id", "statement_id", "question", "kind", "label"]  # what analyses need
