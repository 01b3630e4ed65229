"""Check mapped rows and turn them into the response frame every analysis reads.

``validate_responses`` checks each row of a string frame against a
:class:`~themer.ingest.mapping.ColumnMapping`: a present, unique id (across a streamed file's
chunks too, via :class:`IdIndex`), a score on the declared scale, a parseable date. Each
problem names the source, the file's row (header = row 1) and the column. Strict mode raises
:class:`~themer.errors.BadRowsError` (THM102) listing the first ``MAX_PROBLEMS_SHOWN``; lenient
mode drops the bad rows and returns the problems in the :class:`LoadResult`.

The response frame has one row per response and these columns: ``response_id`` (str), ``row``
(spreadsheet row: header = 1), ``score`` (int), ``category`` (promoter/passive/detractor,
categorical), ``survey_type`` (str), ``date`` (datetime or NaT), ``segment:<name>`` per
segment and ``text:<question>`` per open-text column.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from themer.errors import BadRowsError, Errors
from themer.ingest.mapping import ColumnMapping
from themer.schema import NPS_GROUPS, SCALES

__all__ = ["MAX_PROBLEMS_SHOWN", "IdIndex", "LoadResult", "score_categories",
           "validate_responses"]

MAX_PROBLEMS_SHOWN = 20


@dataclass(frozen=True)
class LoadResult:
    """Validated responses plus the problems found (empty in strict mode)."""

    responses: pd.DataFrame
    mapping: ColumnMapping
    problems: list[str] = field(default_factory=list)
    n_input_rows: int = 0
    profile: str = "mapping"  # which export profile mapped the columns (or "generic")


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


@dataclass
class _Problems:
    """The problems found so far in one frame, in the order found, and which rows are bad."""

    source: str
    rows: pd.RangeIndex  # the file's row number of each frame position
    bad: pd.Series  # frame index -> row has a problem
    found: list[str] = field(default_factory=list)

    def add(self, idx: int, column: str, what: str) -> None:
        self.found.append(f"{self.source}, row {self.rows[idx]}, column '{column}': {what}")
        self.bad[idx] = True


def _check_ids(ids: pd.Series, column: str, problems: _Problems, seen: IdIndex | None) -> None:
    """Missing ids, then ids repeated in this frame, then ids seen in earlier chunks."""
    rows = problems.rows
    for idx in ids.index[ids == ""]:
        problems.add(idx, column, "missing id.")
    dup = ids.duplicated(keep="first") & (ids != "")
    first_seen = {value: i for i, value in reversed(list(enumerate(ids.tolist())))}
    for idx in ids.index[dup]:
        first = rows[first_seen[ids[idx]]]
        problems.add(idx, column, f"duplicate id '{ids[idx]}' (first seen in row {first}).")
    if seen is not None:  # ids of the earlier chunks of a streamed file
        fresh = (ids != "") & ~dup
        earlier = seen.rows_of(ids[fresh].tolist())
        for idx, first in zip(ids.index[fresh][earlier > 0], earlier[earlier > 0], strict=True):
            problems.add(idx, column, f"duplicate id '{ids[idx]}' (first seen in row {first}).")
        seen.add(ids[fresh].tolist(), rows[fresh.to_numpy()].to_numpy())


def _check_scores(raw_scores: pd.Series, mapping: ColumnMapping, problems: _Problems
                  ) -> pd.Series:
    """The scores as numbers; a score off the declared scale (NaN, 7.5, 11) is a problem."""
    numeric = pd.to_numeric(raw_scores, errors="coerce")
    allowed = sorted(SCALES[mapping.scale])
    on_scale = numeric.isin([float(s) for s in allowed])
    for idx in raw_scores.index[~on_scale.to_numpy()]:
        shown = raw_scores[idx] or "(empty)"
        problems.add(idx, mapping.score, f"score '{shown}' is not an integer in "
                     f"{allowed[0]}-{allowed[-1]} (scale '{mapping.scale}').")
    return numeric


def _check_dates(frame: pd.DataFrame, date_col: str | None, problems: _Problems) -> pd.Series:
    """The dates as naive UTC datetimes (NaT without a date column or for an empty cell)."""
    if date_col is None:
        return pd.Series(pd.NaT, index=frame.index, dtype="datetime64[ns]")
    raw_dates = frame[date_col].str.strip()
    parsed = pd.to_datetime(raw_dates, errors="coerce", utc=True, format="mixed")
    for idx in frame.index[parsed.isna() & (raw_dates != "")]:
        problems.add(idx, date_col,
                     f"'{raw_dates[idx]}' is not a date (use ISO 8601, e.g. 2026-03-31).")
    return parsed.dt.tz_localize(None)


def _bad_rows_error(source: str, n_bad: int, problems: list[str]) -> BadRowsError:
    shown = problems[:MAX_PROBLEMS_SHOWN]
    more = len(problems) - len(shown)
    tail = f"\n... and {more} more." if more else ""
    error = Errors.THM102.error(source=source, count=n_bad,
                                listing="\n" + "\n".join(shown) + tail)
    error.problems = list(problems)
    return error


def _response_frame(frame: pd.DataFrame, mapping: ColumnMapping, keep: pd.Series,
                    ids: pd.Series, rows: pd.RangeIndex, numeric: pd.Series,
                    dates: pd.Series) -> pd.DataFrame:
    """The kept rows in the response frame's columns (see the module docstring)."""
    out = pd.DataFrame(
        {
            "response_id": ids[keep].to_numpy(),
            "row": rows[keep.to_numpy()],
            "score": numeric[keep].astype(int).to_numpy(),
        }
    )
    # Categorical: every analysis counts by NPS group; a million strings cost 0.3 s per pass.
    out["category"] = pd.Categorical(out["score"].map(SCALES[mapping.scale]),
                                     categories=list(NPS_GROUPS))
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
    return out


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
        raise Errors.THM113.error(source=source, absent=absent, columns=list(frame.columns))
    # spreadsheet numbering: header is row 1
    rows = pd.RangeIndex(2 + row_offset, len(frame) + 2 + row_offset)
    problems = _Problems(source, rows, pd.Series(False, index=frame.index))
    ids = frame[mapping.id].str.strip()
    _check_ids(ids, mapping.id, problems, seen)
    numeric = _check_scores(frame[mapping.score].str.strip(), mapping, problems)
    dates = _check_dates(frame, mapping.date, problems)
    if strict and problems.found:
        raise _bad_rows_error(source, int(problems.bad.sum()), problems.found)
    out = _response_frame(frame, mapping, ~problems.bad, ids, rows, numeric, dates)
    return LoadResult(responses=out, mapping=mapping, problems=problems.found,
                      n_input_rows=len(frame))


def score_categories(frame: pd.DataFrame, score_col: str, kept: list[int] | range, scale: str,
                     source: str) -> list[str]:
    """The NPS category of each kept row's score (a labelled table's score column); any score
    off ``scale`` fails, naming the first bad row."""
    mapping = SCALES[scale]
    raw = pd.to_numeric(frame[score_col].iloc[list(kept)], errors="coerce")
    bad = [kept[i] for i, value in enumerate(raw) if pd.isna(value) or int(value) not in mapping]
    if bad:
        raise Errors.THM125.error(source=source, row=bad[0] + 2, column=score_col,
                                  scale=scale, count=len(bad))
    return [mapping[int(value)] for value in raw]
