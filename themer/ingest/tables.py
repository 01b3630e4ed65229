"""Read survey exports (CSV, XLSX, JSON, JSONL) into validated response rows.

Output is a pandas DataFrame with one row per response and these columns:
``response_id`` (str), ``row`` (spreadsheet row: header = 1), ``score`` (int), ``category``
(promoter/passive/detractor), ``survey_type`` (str), ``date`` (datetime or NaT),
``segment:<name>`` per segment and ``text:<question>`` per open-text column.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from themer.errors import BadRowsError, InputFileError
from themer.schema import NPS_GROUPS, SCALES, Scale

__all__ = [
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

MAX_FILE_BYTES = 2 * 1024**3  # refuse to read more than 2 GiB in one go
MAX_PROBLEMS_SHOWN = 20
DETECT_ROWS = 50  # rows a vendor profile and the column detection see (header rows included)
READABLE = (".csv", ".tsv", ".txt", ".xlsx", ".xlsm", ".json", ".jsonl", ".parquet")

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


@contextmanager
def _reading(path: Path, encoding: str, rows_read: Callable[[], int] = lambda: 0
             ) -> Iterator[None]:
    """Turn a reader's exceptions into errors that name the file (and where it stopped)."""
    try:
        yield
    except UnicodeDecodeError as exc:
        where = f" (after data row {rows_read() + 1})" if rows_read() else ""
        raise InputFileError(
            f"{path}: bytes are not valid {encoding}{where}: {exc.reason}. Re-export as UTF-8 "
            "or pass --encoding (e.g. latin-1, cp1252).",
            code="THM107",
        ) from None
    except InputFileError:
        raise
    except (ValueError, pd.errors.ParserError, OSError, ImportError) as exc:
        raise InputFileError(f"{path}: cannot parse the file ({exc}).", code="THM108") from None


def _checked(path: str | Path) -> Path:
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
    if path.suffix.lower() not in READABLE:
        raise InputFileError(
            f"{path}: unsupported file type '{path.suffix.lower()}'. "
            "Use .csv, .tsv, .txt, .xlsx, .json, .jsonl or .parquet.",
            code="THM106",
        )
    return path


def _as_strings(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell a string ("" for missing), columns named by strings, index 0..n-1 (a
    chunked reader numbers rows on from the previous chunk)."""
    frame = frame.reset_index(drop=True)
    frame.columns = [str(c) for c in frame.columns]
    return frame.astype(object).where(frame.notna(), "").astype(str)


def _csv_options(suffix: str, encoding: str) -> dict[str, Any]:
    return {"dtype": str, "keep_default_na": False, "encoding": encoding,
            "sep": None if suffix == ".txt" else ("\t" if suffix == ".tsv" else ","),
            "engine": "python" if suffix == ".txt" else "c"}


def read_table(
    path: str | Path, *, encoding: str = "utf-8-sig", sheet: str | int = 0
) -> pd.DataFrame:
    """Read a CSV/TSV/XLSX/JSON/JSONL/Parquet file as strings; errors name the file and the fix."""
    path = _checked(path)
    suffix = path.suffix.lower()
    with _reading(path, encoding):
        if suffix in (".csv", ".tsv", ".txt"):
            frame = pd.read_csv(path, **_csv_options(suffix, encoding))
        elif suffix in (".xlsx", ".xlsm"):
            frame = pd.read_excel(path, dtype=str, sheet_name=sheet, keep_default_na=False)
        elif suffix == ".json":
            frame = pd.read_json(path, dtype=False, orient="records")
        elif suffix == ".jsonl":
            frame = pd.read_json(path, dtype=False, lines=True)
        else:
            frame = pd.read_parquet(path)
    if frame.empty:
        raise InputFileError(f"{path}: the file has a header but no data rows.", code="THM104")
    return _as_strings(frame)


def iter_table(
    path: str | Path, *, encoding: str = "utf-8-sig", chunk_rows: int = 50_000
) -> Iterator[pd.DataFrame]:
    """The file's rows as string frames of at most ``chunk_rows`` rows, in file order.

    CSV/TSV/TXT, JSONL and Parquet are streamed (memory holds one chunk, whatever the file's
    size); XLSX and JSON arrays have no streaming reader and are read whole, then sliced."""
    path = _checked(path)
    suffix = path.suffix.lower()
    read = 0
    with _reading(path, encoding, lambda: read):
        if suffix in (".csv", ".tsv", ".txt", ".jsonl"):
            reader = (pd.read_csv(path, chunksize=chunk_rows, **_csv_options(suffix, encoding))
                      if suffix != ".jsonl" else
                      pd.read_json(path, dtype=False, lines=True, chunksize=chunk_rows))
            with reader:
                for chunk in reader:
                    if len(chunk):
                        read += len(chunk)
                        yield _as_strings(chunk)
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
                if batch.num_rows:
                    read += batch.num_rows
                    yield _as_strings(batch.to_pandas())
        else:
            whole = read_table(path, encoding=encoding)
            for start in range(0, len(whole), chunk_rows):
                read += min(chunk_rows, len(whole) - start)
                yield whole.iloc[start:start + chunk_rows].reset_index(drop=True)
    if not read:
        raise InputFileError(f"{path}: the file has a header but no data rows.", code="THM104")


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
    auto_segments: bool = True,
) -> ColumnMapping:
    """Fill what the caller did not say from common column names; explicit flags win.

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
        raise InputFileError(
            f"{source}: could not detect the {', '.join(missing)} column(s) among "
            f"{list(frame.columns)}. Pass --id-col/--score-col/--text-col or --mapping FILE.",
            code="THM112",
        )
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


_FLAG_WORDS = frozenset({"0", "1", "true", "false", "yes", "no", "y", "n", "t", "f"})
_FEATURE_PREFIX = re.compile(r"^(?:uses|use|has|adopted|feature|used)_")
MAX_SEGMENT_VALUES = 20
_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.]\d{1,2}[/.]\d{2,4}")


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


class IdIndex:
    """The ids seen so far in a streamed file, as sorted 64-bit hashes with their rows.

    16 bytes per id instead of a Python string each (a 2M-row export: 32 MB, not ~200 MB).
    Two different ids with the same 64-bit hash would be reported as duplicates; for n ids the
    chance is about n^2 / 2^65 (1e-7 for 2M ids)."""

    def __init__(self) -> None:
        self._hashes = np.empty(0, dtype=np.uint64)
        self._rows = np.empty(0, dtype=np.int64)

    @staticmethod
    def _hash(ids: list[str]) -> np.ndarray:
        return np.asarray(pd.util.hash_array(np.asarray(ids, dtype=object)), dtype=np.uint64)

    def rows_of(self, ids: list[str]) -> np.ndarray:
        """The row where each id was first seen; 0 where it was not seen."""
        if not ids or not len(self._hashes):
            return np.zeros(len(ids), dtype=np.int64)
        hashes = self._hash(ids)
        at = np.minimum(np.searchsorted(self._hashes, hashes), len(self._hashes) - 1)
        return np.where(self._hashes[at] == hashes, self._rows[at], 0)

    def add(self, ids: list[str], rows: np.ndarray) -> None:
        hashes = np.concatenate([self._hashes, self._hash(ids)])
        order = np.argsort(hashes, kind="stable")
        self._hashes = hashes[order]
        self._rows = np.concatenate([self._rows, np.asarray(rows, dtype=np.int64)])[order]


def validate_responses(
    frame: pd.DataFrame, mapping: ColumnMapping, *, source: str = "input", strict: bool = True,
    row_offset: int = 0, seen: IdIndex | None = None,
) -> LoadResult:
    """Check every row; strict raises on any bad row, lenient drops bad rows and reports them.

    ``row_offset``: rows between the header and the first answer in the file (a vendor's
    question-text rows), so that problems name the file's own row numbers. ``seen``: the ids
    of a streamed file's earlier chunks (duplicates across chunks are found too)."""
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
    if seen is not None:  # ids of the earlier chunks of a streamed file
        fresh = (ids != "") & ~dup
        earlier = seen.rows_of(ids[fresh].tolist())
        for idx, first in zip(frame.index[fresh][earlier > 0], earlier[earlier > 0], strict=True):
            problems.append(
                f"{source}, row {rows[idx]}, column '{mapping.id}': duplicate id '{ids[idx]}' "
                f"(first seen in row {first})."
            )
            bad[idx] = True
        seen.add(ids[fresh].tolist(), rows[fresh.to_numpy()].to_numpy())

    raw_scores = frame[mapping.score].str.strip()
    numeric = pd.to_numeric(raw_scores, errors="coerce")
    allowed = sorted(scale)
    on_scale = numeric.isin([float(s) for s in allowed])  # NaN, 7.5 and 11 are not
    for idx in frame.index[~on_scale.to_numpy()]:
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
    write all chunks in one transaction to leave nothing half-written)."""
    from themer.ingest.profiles import apply_profile, detect_profile

    chunks = iter_table(path, encoding=encoding, chunk_rows=chunk_rows)
    # profile and column detection look at the first rows: at least DETECT_ROWS of them
    first = list(itertools.islice(chunks, max(1, -(-DETECT_ROWS // chunk_rows))))
    frame = pd.concat(first, ignore_index=True) if len(first) > 1 else first[0]
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
