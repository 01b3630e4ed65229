"""The query parameters every analysis route takes: which stored respondents count."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import Depends, Query

from themer.usecases.inputs import Inputs

__all__ = ["MinN", "Selection"]


def selection(survey_type: Annotated[str | None, Query(
                  max_length=100, description="Only this survey type.")] = None,
              date_from: Annotated[date | None, Query(
                  description="Responses on or after this day.")] = None,
              date_to: Annotated[date | None, Query(
                  description="Responses on or before this day.")] = None,
              segment: Annotated[list[str] | None, Query(
                  max_length=20, description="NAME=VALUE: only respondents with this stored "
                  "segment value; repeat.")] = None,
              pool: Annotated[bool, Query(
                  description="Pool several survey types (explicitly).")] = False) -> Inputs:
    """The store input of ``themer <analysis> --store`` with the same filters."""
    return Inputs(survey_type=survey_type, pool=pool, where=tuple(segment or ()),
                  since=date_from.isoformat() if date_from else None,
                  until=date_to.isoformat() if date_to else None)


Selection = Annotated[Inputs, Depends(selection)]
MinN = Annotated[int | None, Query(ge=1, le=100_000, description="Flag groups below this n "
                                   "(default THEMER_MIN_N).")]
