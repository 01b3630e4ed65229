"""The analysis queries: the store's responses and tags as the frames the analyses read.

The frames have the shapes ``themer.ingest`` and the tagger produce, so the same analysis
functions serve the CLI (files) and the API (the store). ``AnalysisQueries`` is a part of
``themer.store.repository.Store``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import pandas as pd
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, sessionmaker

from themer.schema import UNASSIGNED
from themer.store.models import ResponseRow, StatementRow, TagRow

__all__ = ["AnalysisQueries", "Filters"]


@dataclass(frozen=True)
class Filters:
    """Which responses an analysis reads."""

    survey_type: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    segments: tuple[tuple[str, str], ...] = ()

    def apply(self, query: Select[Any]) -> Select[Any]:
        if self.survey_type is not None:
            query = query.where(ResponseRow.survey_type == self.survey_type)
        if self.date_from is not None:
            query = query.where(ResponseRow.responded_at >= self.date_from)
        if self.date_to is not None:
            query = query.where(ResponseRow.responded_at <= self.date_to)
        return query


class AnalysisQueries:
    """Store methods that read responses and tags for the analyses."""

    sessions: sessionmaker[Session]

    def analysis_frames(self, filters: Filters, taxonomy_version_id: int, *,
                        with_text: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(responses, tags) in the shapes of ``themer.ingest`` and the tagger, for the
        analyses (``with_text``: the tags also carry ``statement`` and ``confidence``,
        for quotes)."""
        query = filters.apply(select(ResponseRow.id, ResponseRow.category,
                                     ResponseRow.survey_type, ResponseRow.responded_at,
                                     ResponseRow.segments))
        with self.sessions() as session:
            rows = session.execute(query.order_by(ResponseRow.id)).all()
            wanted = dict(filters.segments)
            rows = [r for r in rows if all(str(r.segments.get(k, "")) == v
                                           for k, v in wanted.items())]
            names = sorted({k for r in rows for k in r.segments})
            responses = pd.DataFrame({
                "response_id": [str(r.id) for r in rows],
                "category": pd.Categorical([r.category for r in rows],
                                           categories=["promoter", "passive", "detractor"]),
                "survey_type": [r.survey_type for r in rows],
                "date": [r.responded_at.isoformat() if r.responded_at else None for r in rows],
                **{f"segment:{n}": [str(r.segments.get(n, "")) for r in rows] for n in names}})
            tag_rows = session.execute(
                select(StatementRow.response_id, StatementRow.id, StatementRow.question,
                       TagRow.kind, TagRow.label,
                       *((StatementRow.text, TagRow.confidence) if with_text else ()))
                .join(TagRow, TagRow.statement_id == StatementRow.id)
                .where(TagRow.taxonomy_version_id == taxonomy_version_id)
                .where(StatementRow.response_id.in_(
                    filters.apply(select(ResponseRow.id)).scalar_subquery()))).all()
        columns = ["response_id", "statement_id", "question", "kind", "label"]
        tags = pd.DataFrame(tag_rows, columns=[
            *columns, *(("statement", "confidence") if with_text else ())])
        tags[columns] = tags[columns].astype(str)
        return responses, tags

    def theme_comments(self, theme: str, kind: str, taxonomy_version_id: int, filters: Filters,
                       *, category: str | None, limit: int, offset: int
                       ) -> tuple[int, list[dict[str, Any]]]:
        """Statements tagged ``theme`` with their response's score: (total, one page)."""
        query = (filters.apply(
            select(StatementRow.text, StatementRow.question, StatementRow.start,
                   StatementRow.end, TagRow.confidence, ResponseRow.source_response_id,
                   ResponseRow.source, ResponseRow.score, ResponseRow.category,
                   ResponseRow.responded_at)
            .join(TagRow, TagRow.statement_id == StatementRow.id)
            .join(ResponseRow, ResponseRow.id == StatementRow.response_id))
            .where(TagRow.taxonomy_version_id == taxonomy_version_id, TagRow.kind == kind,
                   TagRow.label == theme, TagRow.label != UNASSIGNED))
        if category is not None:
            query = query.where(ResponseRow.category == category)
        with self.sessions() as session:
            total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
            page = session.execute(query.order_by(TagRow.confidence.desc(), StatementRow.id)
                                   .limit(limit).offset(offset)).all()
        return int(total), [{
            "statement": r.text, "question": r.question, "start": r.start, "end": r.end,
            "confidence": r.confidence, "response_id": r.source_response_id,
            "source": r.source, "score": r.score, "category": r.category,
            "responded_at": r.responded_at.isoformat() if r.responded_at else None}
            for r in page]
