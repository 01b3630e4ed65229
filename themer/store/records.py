"""What comes into the store: one response as a CX tool or an import sends it, validated.

``ResponseIn`` is the API's request schema and what ``Store.ingest`` takes;
``responses_from_frame`` turns ``themer.ingest`` frames into them (for imports).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import pandas as pd
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from themer.errors import Errors
from themer.nlp.split import (
    MAX_COMMENT_CHARS,  # the splitter's cut: the API refuses rather than cuts
)
from themer.schema import SCALES

__all__ = ["MAX_COMMENT_CHARS", "MAX_QUESTIONS", "MAX_SEGMENTS", "IngestResult", "ResponseIn",
           "responses_from_frame"]

MAX_QUESTIONS = 10
MAX_SEGMENTS = 50


class ResponseIn(BaseModel):
    """One response as a CX tool or an import sends it."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: str = Field(min_length=1, max_length=200, description="The source's response id.",
                    examples=["R00042"])
    source: str = Field(default="api", min_length=1, max_length=200, examples=["delighted"])
    score: int = Field(examples=[6])
    scale: Literal["nps", "stars5"] = "nps"
    survey_type: str = Field(default="relationship", min_length=1, max_length=100)
    survey_id: str | None = Field(default=None, max_length=200)
    respondent_id: str | None = Field(default=None, max_length=200)
    responded_at: date | None = None
    comments: dict[str, str] = Field(
        default_factory=dict, max_length=MAX_QUESTIONS,
        description="question -> answer text", examples=[{"reason": "Search is slow."}])
    segments: dict[str, str] = Field(default_factory=dict, max_length=MAX_SEGMENTS,
                                     examples=[{"plan": "pro"}])

    @field_validator("comments")
    @classmethod
    def _comment_sizes(cls, value: dict[str, str]) -> dict[str, str]:
        for question, text in value.items():
            if not question or len(question) > 200:
                raise ValueError("question names must be 1-200 characters")
            if len(text) > MAX_COMMENT_CHARS:
                raise ValueError(f"comment '{question}' is {len(text)} characters; the limit "
                                 f"is {MAX_COMMENT_CHARS}")
        return value

    @model_validator(mode="after")
    def _score_on_scale(self) -> ResponseIn:
        if self.score not in SCALES[self.scale]:
            allowed = sorted(SCALES[self.scale])
            raise ValueError(f"score {self.score} is not on the {self.scale} scale "
                             f"({allowed[0]}-{allowed[-1]})")
        return self

    @property
    def category(self) -> str:
        return SCALES[self.scale][self.score]


def responses_from_frame(frame: pd.DataFrame, *, scale: Literal["nps", "stars5"],
                         source: str, origin: str = "input") -> list[ResponseIn]:
    """``themer.ingest.load_responses`` rows as ``ResponseIn`` (for imports into the store).

    A row the store refuses (a comment over the length limit, a too-long id) is an
    ``InputFileError`` naming ``origin`` (the file) and the row."""
    if "date" in frame.columns:
        parsed = pd.to_datetime(frame["date"], errors="coerce")
        days: list[date | None] = [None if pd.isna(d) else d for d in parsed.dt.date.tolist()]
    else:
        days = [None] * len(frame)
    questions = [c for c in frame.columns if c.startswith("text:")]
    segments = [c for c in frame.columns if c.startswith("segment:")]
    items = []
    for when, row in zip(days, frame.to_dict(orient="records"), strict=True):
        try:
            items.append(_response_in(row, when, questions, segments, scale=scale,
                                      source=source))
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"]) or "row"
            raise Errors.THM178.error(source=origin, row=row.get("row", "?"), where=where,
                                      problem=first["msg"]) from None
    return items


def _response_in(row: dict[str, Any], when: date | None, questions: list[str],
                 segments: list[str], *, scale: Literal["nps", "stars5"], source: str
                 ) -> ResponseIn:
    return ResponseIn(
        id=str(row["response_id"]), source=source, score=int(row["score"]), scale=scale,
        survey_type=str(row.get("survey_type") or "unspecified"), responded_at=when,
        comments={q.removeprefix("text:"): str(row[q]) for q in questions
                  if isinstance(row[q], str) and row[q].strip()},
        segments={c.removeprefix("segment:"): str(row[c]) for c in segments
                  if isinstance(row[c], str) and row[c] != ""})


@dataclass(frozen=True)
class IngestResult:
    id: int
    source: str
    source_response_id: str
    created: bool
