"""Survey-tool export profiles: recognise a vendor's export and map its columns.

Each profile knows its tool's quirks: Qualtrics puts the question text and an ImportId JSON in
the two rows under the header; SurveyMonkey puts the question in the header and the answer
option ("Response", "Open-Ended Response", a choice) in the row under it; Typeform, Delighted and
Medallia-style exports have one header row with their own column names. ``detect_profile`` tries
them in order (the first whose signature columns are all present wins) and ``apply_profile``
returns the data rows and a :class:`~themer.ingest.mapping.ColumnMapping`; anything else falls
back to the generic name-based detection (``themer.ingest.mapping.detect_mapping``) or a
mapping YAML. This module depends on :mod:`themer.ingest.mapping` only; the loader
(:mod:`themer.ingest.streaming`) depends on it.

Within a profile the score column is the one whose question (header or question row) reads like
"How likely are you to recommend ..."; open-text columns are those whose answers are free text
(not numbers, not a handful of repeated choices), leaving out "Other (please specify)" boxes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd

from themer.errors import Errors
from themer.ingest.mapping import ColumnMapping, column_key

__all__ = ["PROFILES", "Profile", "apply_profile", "detect_profile"]

_RECOMMEND = re.compile(r"recommend|likely|(?<![a-z])(?:nps|ltr)(?![a-z])", re.IGNORECASE)
_OTHER = re.compile(r"other|please specify", re.IGNORECASE)
_OPEN_QUESTION = re.compile(
    r"reason|why|what would|what (?:one )?(?:feature|thing|change)|comment|feedback|tell us|"
    r"anything else|explain|improve|suggest|open-ended|verbatim", re.IGNORECASE)


@dataclass(frozen=True)
class Profile:
    name: str
    signature: tuple[str, ...]  # normalised column names that must all be present
    id: tuple[str, ...]
    date: tuple[str, ...]
    score: tuple[str, ...] = ()  # names tried before the "likely to recommend" search
    header_rows: int = 0  # rows under the header that describe the columns, not answers
    skip: tuple[str, ...] = ()  # metadata columns never taken as score or text
    segment_prefix: str | None = None  # normalised prefix of columns kept as segments
    needs_prefix: bool = False  # the signature also needs a column with segment_prefix


PROFILES = (
    Profile("qualtrics", ("responseid", "recordeddate"), ("responseid",), ("recordeddate",),
            header_rows=2, skip=("startdate", "enddate", "status", "ipaddress", "progress",
                                 "duration_in_seconds", "finished", "recipientlastname",
                                 "recipientfirstname", "recipientemail", "externalreference",
                                 "locationlatitude", "locationlongitude", "distributionchannel",
                                 "userlanguage")),
    Profile("surveymonkey", ("respondent_id", "collector_id"), ("respondent_id",),
            ("end_date", "start_date"), header_rows=1,
            skip=("start_date", "end_date", "ip_address", "email_address", "first_name",
                  "last_name", "custom_data_1")),
    Profile("typeform", ("submit_date_utc", "network_id"), ("response_id", "token", ""),
            ("submit_date_utc",), skip=("start_date_utc", "stage_date_utc", "tags", "ending")),
    Profile("delighted", ("score", "comment", "created_at"), ("response_id", "id"),
            ("created_at",), score=("score",),
            skip=("updated_at", "survey_type", "permalink", "notes", "tags", "person_id", "email",
                  "name"),
            segment_prefix="person_properties_", needs_prefix=True),
    Profile("medallia", ("e_responsedate",), ("e_responseid", "a_surveyid", "surveyid"),
            ("e_responsedate",), segment_prefix="e_"),
)


def detect_profile(frame: pd.DataFrame) -> Profile | None:
    """The first profile whose signature columns are all in ``frame`` (None: generic)."""
    names = {column_key(c) for c in frame.columns}
    return next((p for p in PROFILES if set(p.signature) <= names and not (
        p.needs_prefix and not any(n.startswith(str(p.segment_prefix)) for n in names))), None)


def _is_multi_select(filled: pd.Series) -> bool:
    """Cells that list several short choice labels ("Dashboards,Exports"), not sentences."""
    parts = filled.str.split(r"\s*[,;]\s*", regex=True).explode()
    parts = parts[parts != ""]
    if parts.empty or len(parts) < 1.5 * len(filled):  # one label per cell is no multi-select
        return False
    return bool(parts.str.split().str.len().max() <= 3 and not parts.str.contains(
        r"[.!?]", regex=True).any())


def _is_free_text(values: pd.Series, question: str) -> bool:
    """Open-text answers: never numbers or choice lists; short answers ("ok") count when the
    question reads as open ("reason for your score", "what would it take", "comment")."""
    filled = values[values.str.strip() != ""]
    if filled.empty or _is_multi_select(filled):
        return False
    if pd.to_numeric(filled, errors="coerce").notna().mean() >= 0.5:
        return False
    if _OPEN_QUESTION.search(question):
        return True
    # answers, not choices: mostly distinct and longer than a choice label
    distinct = filled.nunique() / len(filled)
    return bool(distinct > 0.5 and filled.str.len().mean() >= 15)


def apply_profile(frame: pd.DataFrame, profile: Profile, *, source: str = "input"
                  ) -> tuple[pd.DataFrame, ColumnMapping]:
    """The answer rows (description rows dropped) and the column mapping of a vendor export."""
    by_norm = {column_key(c): c for c in frame.columns}
    described: Callable[[str], str]
    if profile.header_rows:
        head = frame.iloc[:profile.header_rows]

        def described(column: str) -> str:  # header + the rows that describe it
            return " ".join([column, *head[column].astype(str).tolist()])
    else:
        def described(column: str) -> str:
            return column
    data = frame.iloc[profile.header_rows:].reset_index(drop=True)
    if data.empty:
        raise Errors.THM199.error(source=source, profile=profile.name)
    id_col = next((by_norm[n] for n in profile.id if n in by_norm), None)
    if id_col is None:
        raise Errors.THM198.error(source=source, profile=profile.name,
                                  names=", ".join(profile.id))
    date_col = next((by_norm[n] for n in profile.date if n in by_norm), None)
    reserved = {id_col, date_col} | {by_norm[n] for n in profile.skip if n in by_norm}
    segments = {}
    if profile.segment_prefix:
        for norm, column in by_norm.items():
            if norm.startswith(profile.segment_prefix) and column not in reserved and \
                    norm not in profile.date and norm not in profile.id:
                segments[norm[len(profile.segment_prefix):]] = column
    reserved |= set(segments.values())
    candidates = [c for c in frame.columns if c not in reserved]
    named = [by_norm[n] for n in profile.score if n in by_norm]
    # a few bad scores (11, "N/A") must not hide the column: validation reports them by row
    score_col = next((c for c in named + candidates if (c in named or _RECOMMEND.search(
        described(c))) and pd.to_numeric(data[c].str.strip(), errors="coerce").between(
            0, 10).mean() > 0.5), None)
    if score_col is None:
        raise Errors.THM197.error(source=source, profile=profile.name)
    texts = [c for c in candidates if c != score_col and not _OTHER.search(described(c))
             and not column_key(c).endswith("nps_group")
             and _is_free_text(data[c], described(c))]
    if not texts:
        raise Errors.THM196.error(source=source, profile=profile.name)
    return data, ColumnMapping(id=id_col, score=score_col, text=texts, date=date_col,
                               segments=segments)
