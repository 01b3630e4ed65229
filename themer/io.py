"""Read survey exports (CSV, XLSX, JSON, JSONL) into validated response rows.

Output is a pandas DataFrame with one row per response and these columns:
``response_id`` (str), ``row`` (spreadsheet row: header = 1), ``score`` (int), ``category``
(promoter/passive/detractor), ``survey_type`` (str), ``date`` (datetime or NaT),
``segment:<name>`` per segment and ``text:<question>`` per open-text column.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from themer.errors import BadRowsError, InputFileError
from themer.stats.nps import NPS_GROUPS

__all__ = [
    "SCALES",
    "ColumnMapping",
    "LoadResult",
    "column_key",
    "detect_mapping",
    "load_mapping",
    "load_responses",
    "read_table",
    "text_list",
    "validate_responses",
]

Scale = Literal["nps", "stars5"]
# Declared scale mappings: score -> category. Never guessed from the data.
SCALES: dict[str, dict[int, str]] = {
    "nps": {s: ("promoter" if s >= 9 else "passive" if s >= 7 else "detractor") for s in range(11)},
    "stars5": {5: "promoter", 4: "passive", 3: "detractor", 2: "detractor", 1: "detractor"},
}
MAX_FILE_BYTES = 2 * 1024**3  # refuse to read more than 2 GiB in one go
MAX_PROBLEMS_SHOWN = 20

_ID_NAMES = ("response_id", "responseid", "id", "respondent_id", "respondent", "record_id")
_SCORE_NAMES = ("score", "nps", "nps_score", "likelihood_to_recommend", "likely_to_recommend",
                "recommend", "rating", "stars")
_TEXT_NAMES = ("comment", "comments", "feedback", "text", "verbatim", "reason", "reason_for_score",
               "open_text", "response", "answer", "what_would_it_take", "improve",
               "improvement", "suggestion", "suggestions", "why")
_DATE_NAMES = ("responded_at", "date", "response_date", "created_at", "submitted_at",
               "recorded_date", "submit_date", "timestamp")
_SURVEY_TYPE_NAMES = ("survey_type", "survey", "nps_type")


class ColumnMapping(BaseModel):
    """Which input column holds what; read from a mapping YAML or the CLI flags."""

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


@dataclass(frozen=True)
class LoadResult:
    """Validated responses plus the problems found (empty in strict mode)."""

    responses: pd.DataFrame
    mapping: ColumnMapping
    problems: list[str] = field(default_factory=list)
    n_input_rows: int = 0
    profile: str = "mapping"  # which export profile mapped the columns (or "generic")


def column_key(name: str) -> str:
    """A header as a comparable key: lower case, runs of other characters as one '_'."""
    return re.sub(r"[^a-z0-9]+", "_", name.strip().lower()).strip("_")


def read_table(
    path: str | Path, *, encoding: str = "utf-8-sig", sheet: str | int = 0
) -> pd.DataFrame:
    """Read a CSV/TSV/XLSX/JSON/JSONL/Parquet file as strings; errors name the file and the fix."""
    path = Path(path)
    if not path.is_file():
        raise InputFileError(f"{path}: file not found.", code="THM103")
    size = path.stat().st_size
    if size == 0:
        raise InputFileError(f"{path}: the file is empty.", code="THM104")
    if size > MAX_FILE_BYTES:
        raise InputFileError(
            f"{path}: {size / 1e9:.1f} GB is over the {MAX_FILE_BYTES / 1e9:.0f} GB limit; "
            "split the export into smaller files.",
            code="THM105",
        )
    suffix = path.suffix.lower()
    try:
        if suffix in (".csv", ".tsv", ".txt"):
            frame = pd.read_csv(
                path, dtype=str, keep_default_na=False, encoding=encoding,
                sep=None if suffix == ".txt" else ("\t" if suffix == ".tsv" else ","),
                engine="python" if suffix == ".txt" else "c",
            )
        elif suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, dtype=str, sheet_name=sheet, keep_default_na=False)
        elif suffix == ".json":
            frame = pd.read_json(path, dtype=False, orient="records")
        elif suffix == ".jsonl":
            frame = pd.read_json(path, dtype=False, lines=True)
        elif suffix == ".parquet":
            frame = pd.read_parquet(path)
        else:
            raise InputFileError(
                f"{path}: unsupported file type '{suffix}'. "
                "Use .csv, .tsv, .xlsx, .json, .jsonl or .parquet.",
                code="THM106",
            )
    except UnicodeDecodeError as exc:
        raise InputFileError(
            f"{path}: byte {exc.start} is not valid {encoding}. Re-export as UTF-8 or pass "
            "--encoding (e.g. latin-1, cp1252).",
            code="THM107",
        ) from None
    except InputFileError:
        raise
    except (ValueError, pd.errors.ParserError, OSError, ImportError) as exc:
        raise InputFileError(f"{path}: cannot parse the file ({exc}).", code="THM108") from None
    if frame.empty:
        raise InputFileError(f"{path}: the file has a header but no data rows.", code="THM104")
    frame.columns = [str(c) for c in frame.columns]
    return frame.astype(object).where(frame.notna(), "").astype(str)


def text_list(values: pd.Series) -> list[str]:
    """Cells as strings, a missing cell as "" (pandas 3 keeps NaN through ``astype(str)``)."""
    return [v if isinstance(v, str) else "" if pd.isna(v) else str(v) for v in values]


def load_mapping(path: str | Path) -> ColumnMapping:
    """Read a mapping YAML (keys: id, score, text, date, survey_type, segments, scale)."""
    path = Path(path)
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputFileError(f"{path}: mapping file not found.", code="THM109") from None
    except yaml.YAMLError as exc:
        raise InputFileError(f"{path}: not valid YAML ({exc}).", code="THM110") from None
    if isinstance(data, dict) and isinstance(data.get("text"), str):
        data["text"] = [data["text"]]
    try:
        return ColumnMapping.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        key = ".".join(str(p) for p in first["loc"])
        raise InputFileError(
            f"{path}, key '{key}': {first['msg']}. Keys: id, score, text, date, survey_type, "
            "segments, scale.",
            code="THM111",
        ) from None


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
) -> ColumnMapping:
    """Fill what the caller did not say from common column names; explicit flags win."""
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
        raise InputFileError(
            f"{source}: could not detect the {', '.join(missing)} column(s) among "
            f"{list(frame.columns)}. Pass --id-col/--score-col/--text-col or --mapping FILE.",
            code="THM112",
        )
    assert id_col is not None
    assert score_col is not None
    return ColumnMapping(
        id=id_col, score=score_col, text=texts, date=date_col,
        survey_type=survey_type_col, segments=dict(segments or {}), scale=scale,
    )


def validate_responses(
    frame: pd.DataFrame, mapping: ColumnMapping, *, source: str = "input", strict: bool = True,
    row_offset: int = 0,
) -> LoadResult:
    """Check every row; strict raises on any bad row, lenient drops bad rows and reports them.

    ``row_offset``: rows between the header and the first answer in the file (a vendor's
    question-text rows), so that problems name the file's own row numbers."""
    absent = [c for c in mapping.columns() if c not in frame.columns]
    if absent:
        raise InputFileError(
            f"{source}: column(s) {absent} not found; the file has {list(frame.columns)}.",
            code="THM113",
        )
    scale = SCALES[mapping.scale]
    # spreadsheet numbering: header is row 1
    rows = pd.RangeIndex(2 + row_offset, len(frame) + 2 + row_offset)
    problems: list[str] = []
    bad = pd.Series(False, index=frame.index)

    ids = frame[mapping.id].str.strip()
    for idx in frame.index[ids == ""]:
        problems.append(f"{source}, row {rows[idx]}, column '{mapping.id}': missing id.")
        bad[idx] = True
    dup = ids.duplicated(keep="first") & (ids != "")
    first_seen = {value: i for i, value in reversed(list(enumerate(ids.tolist())))}
    for idx in frame.index[dup]:
        first = rows[first_seen[ids[idx]]]
        problems.append(
            f"{source}, row {rows[idx]}, column '{mapping.id}': duplicate id '{ids[idx]}' "
            f"(first seen in row {first})."
        )
        bad[idx] = True

    raw_scores = frame[mapping.score].str.strip()
    numeric = pd.to_numeric(raw_scores, errors="coerce")
    allowed = sorted(scale)
    for idx in frame.index:
        value = numeric[idx]
        if pd.isna(value) or value != int(value) or int(value) not in scale:
            shown = raw_scores[idx] or "(empty)"
            problems.append(
                f"{source}, row {rows[idx]}, column '{mapping.score}': score '{shown}' is not an "
                f"integer in {allowed[0]}-{allowed[-1]} (scale '{mapping.scale}')."
            )
            bad[idx] = True

    dates = pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    if mapping.date is not None:
        raw_dates = frame[mapping.date].str.strip()
        parsed = pd.to_datetime(raw_dates, errors="coerce", utc=True, format="mixed")
        for idx in frame.index[parsed.isna() & (raw_dates != "")]:
            problems.append(
                f"{source}, row {rows[idx]}, column '{mapping.date}': '{raw_dates[idx]}' is not a "
                "date (use ISO 8601, e.g. 2026-03-31)."
            )
            bad[idx] = True
        dates = parsed.dt.tz_localize(None)

    if strict and problems:
        shown = problems[:MAX_PROBLEMS_SHOWN]
        more = len(problems) - len(shown)
        tail = f"\n... and {more} more." if more else ""
        raise BadRowsError(
            f"{source}: {int(bad.sum())} bad row(s); nothing was written. Fix them, or pass "
            "--lenient to skip bad rows and report them:\n" + "\n".join(shown) + tail,
            problems,
        )

    keep = ~bad
    out = pd.DataFrame(
        {
            "response_id": ids[keep].to_numpy(),
            "row": rows[keep.to_numpy()],
            "score": numeric[keep].astype(int).to_numpy(),
        }
    )
    # Categorical: every analysis counts by NPS group; a million strings cost 0.3 s per pass.
    out["category"] = pd.Categorical(out["score"].map(scale), categories=list(NPS_GROUPS))
    if mapping.survey_type is not None:
        kinds = frame.loc[keep, mapping.survey_type].str.strip().to_numpy()
        out["survey_type"] = [k or "unspecified" for k in kinds]
    else:
        out["survey_type"] = "unspecified"
    out["date"] = dates[keep].to_numpy()
    for name, column in mapping.segments.items():
        out[f"segment:{name}"] = frame.loc[keep, column].str.strip().to_numpy()
    for column in mapping.text:
        out[f"text:{column}"] = frame.loc[keep, column].to_numpy()
    return LoadResult(responses=out, mapping=mapping, problems=problems, n_input_rows=len(frame))


def load_responses(
    path: str | Path,
    mapping: ColumnMapping | None = None,
    *,
    strict: bool = True,
    encoding: str = "utf-8-sig",
    **detect: Any,
) -> LoadResult:
    """Read, map and validate a survey export in one call."""
    from themer.profiles import apply_profile, detect_profile

    frame = read_table(path, encoding=encoding)
    profile, offset = "mapping", 0
    if mapping is None:
        explicit = any(detect.get(k) for k in ("id_col", "score_col", "text_cols", "date_col"))
        vendor = None if explicit else detect_profile(frame)
        if vendor is not None:
            frame, mapping = apply_profile(frame, vendor, source=str(path))
            mapping = mapping.model_copy(update={
                "segments": {**mapping.segments, **dict(detect.get("segments") or {})},
                "survey_type": detect.get("survey_type_col"),
                "scale": detect.get("scale", "nps")})
            profile, offset = vendor.name, vendor.header_rows
        else:
            mapping = detect_mapping(frame, source=str(path), **detect)
            profile = "generic"
    result = validate_responses(frame, mapping, source=str(path), strict=strict,
                                row_offset=offset)
    return replace(result, profile=profile)
