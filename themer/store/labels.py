"""The analyst's labels in the store: one current label per (statement, taxonomy version).

A label says which areas a stored statement is about (none: "none of these"), its one type (or
none), and optionally the name of a theme the taxonomy lacks; it records who labelled and
when. Saving a batch is one transaction that first checks every statement is still stored, so
a batch naming a deleted statement writes nothing; relabelling replaces the earlier label.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import pandas as pd
from sqlalchemy import delete, func, insert, select

from themer.errors import Errors
from themer.schema import STATEMENT_COLUMNS, STATEMENT_TYPES
from themer.store.models import LabelRow, ResponseRow, StatementRow
from themer.store.repository import Store

__all__ = [
    "LabelIn",
    "StatementContext",
    "StoredLabel",
    "delete_labels",
    "label_counts",
    "labelled_ids",
    "save_labels",
    "statement_contexts",
    "store_statements",
    "stored_labels",
]

IN_LIST = 500  # ids per IN (...) list


@dataclass(frozen=True)
class LabelIn:
    """One label to save; ``where`` names its origin for errors ("labels.xlsx, row 4")."""

    statement_id: int
    taxonomy_version_id: int
    areas: tuple[str, ...]
    type: str | None
    new_theme: str | None = None
    where: str = "request"


@dataclass(frozen=True)
class StoredLabel:
    statement_id: int
    text: str
    areas: tuple[str, ...]
    type: str | None
    new_theme: str | None
    labelled_by: str
    labelled_at: datetime


@dataclass(frozen=True)
class StatementContext:
    """A stored statement with the comment around it (the full answer to its question)."""

    statement_id: int
    response_id: int
    source_response_id: str
    question: str
    start: int
    end: int
    text: str
    comment: str
    score: int


def _chunks(ids: Sequence[int]) -> list[list[int]]:
    unique = sorted(set(ids))
    return [unique[i:i + IN_LIST] for i in range(0, len(unique), IN_LIST)]


def save_labels(store: Store, labels: Sequence[LabelIn], by: str) -> int:
    """Store ``labels`` (replacing earlier labels of the same statement and version) in one
    transaction; a label whose statement is not stored fails the whole batch (THM189)."""
    if not labels:
        return 0
    now = datetime.now(UTC)
    with store.sessions.begin() as session:
        present: set[int] = set()
        for part in _chunks([label.statement_id for label in labels]):
            present.update(session.scalars(select(StatementRow.id)
                                           .where(StatementRow.id.in_(part))))
        for label in labels:
            if label.statement_id not in present:
                raise Errors.THM189.error(
                    where=label.where, column="statement_id",
                    problem=f"statement {label.statement_id} is not in the store (deleted, "
                    "or the id was edited)")
        by_version: dict[int, list[int]] = {}
        for label in labels:
            by_version.setdefault(label.taxonomy_version_id, []).append(label.statement_id)
        for version_id, ids in by_version.items():
            for part in _chunks(ids):
                session.execute(delete(LabelRow).where(
                    LabelRow.taxonomy_version_id == version_id,
                    LabelRow.statement_id.in_(part)))
        last = {(label.statement_id, label.taxonomy_version_id): label for label in labels}
        session.execute(insert(LabelRow), [
            {"statement_id": label.statement_id, "taxonomy_version_id": label.taxonomy_version_id,
             "areas": list(label.areas), "type": label.type, "new_theme": label.new_theme,
             "labelled_by": by, "labelled_at": now} for label in last.values()])
    return len(last)


def delete_labels(store: Store, taxonomy_version_id: int) -> int:
    """Drop every label of one taxonomy version (tests, a fresh start)."""
    with store.sessions.begin() as session:
        gone = session.execute(delete(LabelRow).where(
            LabelRow.taxonomy_version_id == taxonomy_version_id))
    return int(gone.rowcount)  # type: ignore[attr-defined]


def stored_labels(store: Store, taxonomy_version_id: int) -> list[StoredLabel]:
    """The current labels of one version with their statements' text, by statement id."""
    with store.sessions() as session:
        rows = session.execute(
            select(LabelRow.statement_id, StatementRow.text, LabelRow.areas, LabelRow.type,
                   LabelRow.new_theme, LabelRow.labelled_by, LabelRow.labelled_at)
            .join(StatementRow, StatementRow.id == LabelRow.statement_id)
            .where(LabelRow.taxonomy_version_id == taxonomy_version_id)
            .order_by(LabelRow.statement_id)).all()
    return [StoredLabel(int(s), str(t), tuple(a or ()), ty, nt, str(by), at)
            for s, t, a, ty, nt, by, at in rows]


def labelled_ids(store: Store, taxonomy_version_id: int) -> set[int]:
    with store.sessions() as session:
        return {int(i) for i in session.scalars(
            select(LabelRow.statement_id)
            .where(LabelRow.taxonomy_version_id == taxonomy_version_id))}


def label_counts(store: Store, taxonomy_version_id: int) -> dict[str, int]:
    """Labels of one version: how many, and how many people gave them."""
    with store.sessions() as session:
        total, people = session.execute(
            select(func.count(LabelRow.id), func.count(func.distinct(LabelRow.labelled_by)))
            .where(LabelRow.taxonomy_version_id == taxonomy_version_id)).one()
    return {"labels": int(total or 0), "labellers": int(people or 0)}


def store_statements(store: Store, limit: int) -> pd.DataFrame:
    """The stored statements (STATEMENT_COLUMNS, ``statement_id`` = stored id as text), at
    most ``limit`` of them, lowest ids first."""
    with store.engine.connect() as connection:
        rows = connection.execute(
            select(StatementRow.response_id, StatementRow.id, StatementRow.question,
                   StatementRow.start, StatementRow.end, StatementRow.text)
            .order_by(StatementRow.id).limit(limit)).all()
    frame = pd.DataFrame([tuple(row) for row in rows], columns=STATEMENT_COLUMNS)
    return frame.astype(STATEMENT_TYPES)


def statement_contexts(store: Store, statement_ids: Sequence[int]
                       ) -> dict[int, StatementContext]:
    """Each stored statement with its response's full answer, for showing it in context."""
    found: dict[int, StatementContext] = {}
    with store.sessions() as session:
        for part in _chunks(statement_ids):
            rows = session.execute(
                select(StatementRow.id, StatementRow.response_id, ResponseRow.source_response_id,
                       StatementRow.question, StatementRow.start, StatementRow.end,
                       StatementRow.text, ResponseRow.comments, ResponseRow.score)
                .join(ResponseRow, ResponseRow.id == StatementRow.response_id)
                .where(StatementRow.id.in_(part))).all()
            for sid, rid, source_id, question, start, end, text, comments, score in rows:
                found[int(sid)] = StatementContext(
                    int(sid), int(rid), str(source_id), str(question), int(start), int(end),
                    str(text), str((comments or {}).get(question, text)), int(score))
    return found
