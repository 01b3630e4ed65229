"""Which input column holds what: the :class:`ColumnMapping`, read from YAML or detected.

A mapping names the id, score and open-text columns (required), the date and survey-type
columns and the segment columns (optional), and the declared score scale. It comes from a
mapping YAML (``load_mapping``), from the caller's column names, or from common header names
(``detect_mapping``, which also finds segment and feature-flag columns with
``detect_segments``). Vendor exports are mapped by :mod:`themer.ingest.profiles`, which builds
on ``column_key`` and ``ColumnMapping`` from here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from themer.errors import Errors
from themer.schema import Scale

__all__ = [
    "MAX_SEGMENT_VALUES",
    "ColumnMapping",
    "column_key",
    "detect_mapping",
    "detect_segments",
    "load_mapping",
]

_ID_NAMES = ("response_id", "responseid", "id", "respondent_id", "respondent", "record_id")
_SCORE_NAMES = ("score", "nps", "nps_score", "likelihood_to_recommend", "likely_to_recommend",
                "recommend", "rating", "stars")
_TEXT_NAMES = ("comment", "comments", "feedback", "text", "verbatim", "reason", "reason_for_score",
               "open_text", "response", "answer", "what_would_it_take", "improve",
               "improvement", "suggestion", "suggestions", "why")
_DATE_NAMES = ("responded_at", "date", "response_date", "created_at", "submitted_at",
               "recorded_date", "submit_date", "timestamp")
_SURVEY_TYPE_NAMES = ("survey_type", "survey", "nps_type")

_FLAG_WORDS = frozenset({"0", "1", "true", "false", "yes", "no", "y", "n", "t", "f"})
_FEATURE_PREFIX = re.compile(r"^(?:uses|use|has|adopted|feature|used)_")
MAX_SEGMENT_VALUES = 20
_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}")


class ColumnMapping(BaseModel):
    """Which input column holds what; read from a mapping YAML or given by the caller."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    score: str
    text: list[str] = Field(min_length=1)
    date: str | None = None
    survey_type: str | None = None
    segments: dict[str, str] = Field(default_factory=dict)
    scale: Scale = "nps"

    def columns(self) -> list[str]:
        optional = [c for c in (self.date, self.survey_type) if c is not None]
        return [self.id, self.score, *self.text, *optional, *self.segments.values()]


def column_key(name: str) -> str:
    """A header as a comparable key: lower case, runs of other characters as one '_'."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def load_mapping(path: str | Path) -> ColumnMapping:
    """Read a mapping YAML (keys: id, score, text, date, survey_type, segments, scale)."""
    path = Path(path)
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise Errors.THM109.error(path=path) from None
    except yaml.YAMLError as exc:
        raise Errors.THM110.error(path=path, reason=exc) from None
    if isinstance(data, dict) and isinstance(data.get("text"), str):
        data["text"] = [data["text"]]
    try:
        return ColumnMapping.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise Errors.THM111.error(path=path, key=key, problem=first["msg"]) from None


def _pick(columns: Mapping[str, str], names: Sequence[str]) -> str | None:
    for name in names:
        if name in columns:
            return columns[name]
    return None


def detect_mapping(
    frame: pd.DataFrame,
    *,
    id_col: str | None = None,
    score_col: str | None = None,
    text_cols: Sequence[str] = (),
    date_col: str | None = None,
    survey_type_col: str | None = None,
    segments: Mapping[str, str] | None = None,
    scale: Scale = "nps",
    source: str = "input",
    auto_segments: bool = True,
) -> ColumnMapping:
    """Fill what the caller did not say from common column names; the caller's names win.

    ``auto_segments``: add the segment and feature-flag columns found by ``detect_segments``
    (callers turn it off when the user named the segments)."""
    by_norm = {column_key(c): c for c in frame.columns}
    id_col = id_col or _pick(by_norm, _ID_NAMES)
    score_col = score_col or _pick(by_norm, _SCORE_NAMES)
    texts = list(text_cols) or [by_norm[n] for n in _TEXT_NAMES if n in by_norm]
    date_col = date_col or _pick(by_norm, _DATE_NAMES)
    survey_type_col = survey_type_col or _pick(by_norm, _SURVEY_TYPE_NAMES)
    missing = [what for what, col in (("id", id_col), ("score", score_col)) if col is None]
    if not texts:
        missing.append("text")
    if missing:
        raise Errors.THM112.error(source=source, missing=", ".join(missing),
                                  columns=list(frame.columns))
    assert id_col is not None
    assert score_col is not None
    if auto_segments:
        taken = {id_col, score_col, *texts, date_col, survey_type_col, *(segments or {}).values()}
        segments = {**detect_segments(frame[[c for c in frame.columns if c not in taken]]),
                    **(segments or {})}
    return ColumnMapping(
        id=id_col, score=score_col, text=texts, date=date_col,
        survey_type=survey_type_col, segments=dict(segments or {}), scale=scale,
    )


def detect_segments(frame: pd.DataFrame) -> dict[str, str]:
    """Segment columns of a plain export: name -> column.

    A yes/no (1/0) column named ``uses_X``/``has_X``/``adopted_X``/``feature_X`` is feature X's
    adoption flag (``feature:X``); a column of at most 20 repeated non-numeric values (plan,
    role, company size, cohort like "2024-Q3") is a segment. Numbers, dates and free text are
    not segments."""
    found: dict[str, str] = {}
    for column in frame.columns:
        key = column_key(column)
        values = frame[column].astype(str).str.strip()
        filled = values[values != ""]
        if filled.empty or not key:
            continue
        distinct = set(filled.str.lower().unique())
        if _FEATURE_PREFIX.match(key) and distinct <= _FLAG_WORDS:
            found[f"feature:{_FEATURE_PREFIX.sub('', key)}"] = column
        elif (len(distinct) <= MAX_SEGMENT_VALUES and len(distinct) <= len(filled) / 2
              and pd.to_numeric(filled, errors="coerce").isna().mean() > 0.5
              and filled.str.match(_DATE_LIKE).mean() <= 0.5):
            found[key] = column
    return found
