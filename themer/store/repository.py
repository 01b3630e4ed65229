"""The store's operations: ingest (idempotent), tags, taxonomy versions, the roadmap.

Every write is one transaction: a batch lands whole or not at all. Queries are SQLAlchemy
expressions (no SQL from strings). ``Store`` is assembled from parts kept in their own modules::

    Store                repository.py   responses, statements, tags, taxonomy, roadmap
    ├── AnalysisQueries  analysis.py     analysis frames and theme comments (Filters)
    └── ApiKeys          keys.py         API keys (hashed) and idempotency records
    ResponseIn           records.py      one response in, validated (API and imports)

The names of those modules that callers use are importable from here too.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any

import pandas as pd
from sqlalchemy import Engine, Select, delete, func, insert, select, update
from sqlalchemy.orm import Session

from themer.errors import Errors
from themer.schema import STATEMENT_COLUMNS, STATEMENT_TYPES
from themer.store.analysis import AnalysisQueries, Filters
from themer.store.db import connect, insert_ignoring_duplicates, migrate, sessions
from themer.store.keys import ApiKeys, Scope, scope_allows
from themer.store.models import (
    Base,
    ResponseRow,
    RoadmapVersion,
    StatementRow,
    TagRow,
    TaxonomyVersion,
    WebhookDelivery,
)
from themer.store.records import MAX_COMMENT_CHARS, IngestResult, ResponseIn, responses_from_frame
from themer.taxonomy import TaxonomyInfo, parse_taxonomy

__all__ = ["MAX_COMMENT_CHARS", "Filters", "IngestResult", "ResponseIn", "Scope", "Store",
           "responses_from_frame", "scope_allows"]

INSERT_ROWS = 1_000  # rows per INSERT statement
BULK_ROWS = 50_000  # rows per executemany of tag rows (memory bound, not a SQL limit)


def _statements_of(first: int, last: int) -> Select[Any]:
    """Ids of the statements of responses first..last. As ``statement_id IN (this)`` the tag
    lookup uses the (statement, version) unique index; a join let SQLite walk every tag of the
    version instead, once per chunk."""
    return select(StatementRow.id).where(StatementRow.response_id.between(first, last))


class Store(AnalysisQueries, ApiKeys):
    """The repository over one database (SQLite or PostgreSQL)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessions(engine)

    @classmethod
    def open(cls, url: str) -> Store:
        """Connect and bring the schema up to date."""
        engine = connect(url)
        migrate(engine)
        return cls(engine)

    # --- responses -------------------------------------------------------------------------

    def insert_ignoring_duplicates(self, model: type[Base], *unique: str) -> Any:
        """INSERT ... ON CONFLICT (unique) DO NOTHING in this store's dialect."""
        return insert_ignoring_duplicates(self.engine, model, *unique)

    def ingest(self, items: Sequence[ResponseIn], *, import_batch: str | None = None
               ) -> list[IngestResult]:
        """Insert the responses not stored yet; (source, id) already there are left as they are.

        Safe under concurrent retries: the unique key and ON CONFLICT DO NOTHING make a second
        insert of the same response a no-op, never a duplicate row.
        """
        with self.sessions.begin() as session:
            return self._ingest(session, items, import_batch)

    def ingest_all(self, batches: Iterable[Sequence[ResponseIn]], *,
                   import_batch: str | None = None) -> tuple[list[int], int]:
        """Ingest a stream of batches in one transaction: (ids created, count already stored).

        An exception raised while the batches are produced (a bad row of a streamed file)
        rolls every batch back: an import is written whole or not at all."""
        created: list[int] = []
        existing = 0
        with self.sessions.begin() as session:
            for items in batches:
                for result in self._ingest(session, items, import_batch):
                    if result.created:
                        created.append(result.id)
                    else:
                        existing += 1
        return created, existing

    def _ingest(self, session: Session, items: Sequence[ResponseIn],
                import_batch: str | None) -> list[IngestResult]:
        keys = list(dict.fromkeys((item.source, item.id) for item in items))
        before = self._ids(session, keys)
        fresh = {(i.source, i.id): i for i in items if (i.source, i.id) not in before}
        rows = [{"source": i.source, "source_response_id": i.id, "score": i.score,
                 "scale": i.scale, "category": i.category, "survey_id": i.survey_id,
                 "survey_type": i.survey_type, "respondent_id": i.respondent_id,
                 "responded_at": i.responded_at, "comments": i.comments,
                 "segments": i.segments, "raw": i.model_dump(mode="json"),
                 "import_batch": import_batch, "created_at": datetime.now(UTC)}
                for i in fresh.values()]
        insert = self.insert_ignoring_duplicates(ResponseRow, "source", "source_response_id")
        for start in range(0, len(rows), INSERT_ROWS):  # bounded statements (SQLite's limit)
            session.execute(insert, rows[start:start + INSERT_ROWS])
        after = self._ids(session, keys)
        return [IngestResult(after[key], key[0], key[1], key not in before) for key in keys]

    @staticmethod
    def _ids(session: Session, keys: list[tuple[str, str]]) -> dict[tuple[str, str], int]:
        found: dict[tuple[str, str], int] = {}
        by_source: dict[str, list[str]] = {}
        for source, response_id in keys:
            by_source.setdefault(source, []).append(response_id)
        # source = ? AND id IN (...): the unique index answers it (a row-value IN list made
        # SQLite scan the table once per query, so big imports slowed down as they grew)
        for source, ids in by_source.items():
            for start in range(0, len(ids), 500):  # bounded IN lists
                rows = session.execute(
                    select(ResponseRow.source_response_id, ResponseRow.id)
                    .where(ResponseRow.source == source,
                           ResponseRow.source_response_id.in_(ids[start:start + 500])))
                found.update({(source, r): i for r, i in rows})
        return found

    def responses_for_tagging(self, ids: Sequence[int]) -> pd.DataFrame:
        """The tagger's input (response_id = store id as text, one ``text:Q`` column each)."""
        with self.sessions() as session:
            rows = session.execute(select(ResponseRow.id, ResponseRow.comments)
                                   .where(ResponseRow.id.in_(list(ids)))).all()
        questions = sorted({q for _, comments in rows for q in comments})
        return pd.DataFrame({"response_id": [str(i) for i, _ in rows],
                             **{f"text:{q}": [c.get(q, "") for _, c in rows]
                                for q in questions}})

    def stored_statements(self, first: int, last: int) -> pd.DataFrame:
        """The statements stored for responses ``first``..``last`` (store ids, inclusive), in
        the tagger's shape (STATEMENT_COLUMNS) with ``statement_id`` = the stored statement's
        id: a re-tag reads them instead of splitting the comments again."""
        with self.engine.connect() as connection:  # Core rows: no ORM row processing
            rows = connection.execute(
                select(StatementRow.response_id, StatementRow.id, StatementRow.question,
                       StatementRow.start, StatementRow.end, StatementRow.text)
                .where(StatementRow.response_id.between(first, last))
                .order_by(StatementRow.response_id, StatementRow.question,
                          StatementRow.start)).all()
        # plain tuples: pandas probes Row objects for namedtuple fields, 10x slower
        frame = pd.DataFrame([tuple(row) for row in rows], columns=STATEMENT_COLUMNS)
        return frame.astype(STATEMENT_TYPES)

    def range_labels(self, taxonomy_version_id: int, first: int, last: int
                     ) -> set[tuple[int, str, str]]:
        """(stored statement id, kind, label) of one version's tags for responses
        ``first``..``last``: what a re-tag compares against."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(TagRow.statement_id, TagRow.kind, TagRow.label)
                .where(TagRow.taxonomy_version_id == taxonomy_version_id,
                       TagRow.statement_id.in_(_statements_of(first, last)))).all()
        return {(int(s), str(k), str(label)) for s, k, label in map(tuple, rows)}

    # --- tags ------------------------------------------------------------------------------

    def replace_range_tags(self, tags: pd.DataFrame, taxonomy_version_id: int,
                           head_version: dict[str, str], first: int, last: int) -> int:
        """Replace one version's tags of the stored statements of responses ``first``..``last``
        with ``tags`` (tag rows whose ``statement_id`` is a stored statement id, as
        ``stored_statements`` gives them), in one transaction: the re-tag path, which writes
        no statement rows."""
        statement_ids = tags["statement_id"].astype("int64").tolist()
        heads = [head_version[kind] for kind in tags["kind"].tolist()]
        rows = [{"statement_id": s, "taxonomy_version_id": taxonomy_version_id, "kind": k,
                 "label": label, "confidence": c, "head_version": h}
                for s, k, label, c, h in zip(statement_ids, tags["kind"].tolist(),
                                             tags["label"].tolist(),
                                             tags["confidence"].astype(float).tolist(), heads,
                                             strict=True)]
        with self.engine.begin() as connection:  # Core executemany: no ORM bookkeeping
            connection.execute(delete(TagRow).where(
                TagRow.taxonomy_version_id == taxonomy_version_id,
                TagRow.statement_id.in_(_statements_of(first, last))))
            for start in range(0, len(rows), BULK_ROWS):
                connection.execute(insert(TagRow), rows[start:start + BULK_ROWS])
        return len(rows)


    def save_tags(self, tags: pd.DataFrame, taxonomy_version_id: int,
                  head_version: dict[str, str]) -> int:
        """Store statements and their tag rows (the tagger's output; response_id = store id).

        Replaces any tags of this taxonomy version for these responses, in one transaction, so
        re-tagging is idempotent.
        """
        if tags.empty:
            return 0
        response_ids = sorted({int(r) for r in tags["response_id"]})
        with self.sessions.begin() as session:
            existing = {(r, q, s): i for i, r, q, s in session.execute(
                select(StatementRow.id, StatementRow.response_id, StatementRow.question,
                       StatementRow.start).where(StatementRow.response_id.in_(response_ids)))}
            statements = tags.drop_duplicates("statement_id")
            keys = {str(row.statement_id): (int(row.response_id), str(row.question),
                                            int(row.start), int(row.end), str(row.statement))
                    for row in statements.itertuples(index=False)}
            fresh = [{"response_id": r, "question": q, "start": s, "end": e, "text": t}
                     for r, q, s, e, t in keys.values() if (r, q, s) not in existing]
            if fresh:  # one multi-row INSERT ... RETURNING, not a flush per statement
                created = session.execute(
                    insert(StatementRow).returning(StatementRow.id, StatementRow.response_id,
                                                   StatementRow.question, StatementRow.start,
                                                   sort_by_parameter_order=True), fresh)
                existing.update({(r, q, s): i for i, r, q, s in created})
            ids = {sid: existing[key[:3]] for sid, key in keys.items()}
            session.execute(delete(TagRow).where(
                TagRow.taxonomy_version_id == taxonomy_version_id,
                TagRow.statement_id.in_(list(ids.values()))))
            session.execute(insert(TagRow), [
                {"statement_id": ids[str(r.statement_id)],
                 "taxonomy_version_id": taxonomy_version_id, "kind": r.kind, "label": r.label,
                 "confidence": float(r.confidence), "head_version": head_version[r.kind]}
                for r in tags.itertuples(index=False)])
        return len(tags)

    # --- taxonomy --------------------------------------------------------------------------

    def activate_taxonomy(self, info: TaxonomyInfo, yaml_text: str, *,
                          author: str | None = None) -> TaxonomyVersion:
        """Store this taxonomy (once per content hash) and make it the active version."""
        return self.add_taxonomy(info, yaml_text, author=author, activate=True)

    def add_taxonomy(self, info: TaxonomyInfo, yaml_text: str, *, author: str | None = None,
                     activate: bool) -> TaxonomyVersion:
        """Store this taxonomy once per content hash; optionally make it the active version
        (a new version is activated by its re-tag job when history is tagged with it)."""
        with self.sessions.begin() as session:
            found = session.scalar(select(TaxonomyVersion)
                                   .where(TaxonomyVersion.content_hash == info.content_hash))
            if found is None:
                previous = session.scalar(select(TaxonomyVersion)
                                          .order_by(TaxonomyVersion.id.desc()).limit(1))
                diff = None if previous is None else "".join(difflib.unified_diff(
                    previous.yaml.splitlines(keepends=True), yaml_text.splitlines(keepends=True),
                    f"v{previous.version}", f"v{info.version}"))
                found = TaxonomyVersion(version=info.version, content_hash=info.content_hash,
                                        yaml=yaml_text, author=author, diff=diff)
                session.add(found)
                session.flush()
            if activate:
                session.execute(update(TaxonomyVersion).values(active=False)
                                .where(TaxonomyVersion.id != found.id))
                found.active = True
        return found

    def taxonomy_versions(self) -> list[TaxonomyVersion]:
        with self.sessions() as session:
            return list(session.scalars(select(TaxonomyVersion).order_by(TaxonomyVersion.id)))

    def taxonomy_version(self, version_id: int) -> TaxonomyVersion | None:
        with self.sessions() as session:
            return session.get(TaxonomyVersion, version_id)

    def active_taxonomy(self) -> TaxonomyVersion | None:
        with self.sessions() as session:
            return session.scalar(select(TaxonomyVersion).where(TaxonomyVersion.active))

    # --- roadmap ---------------------------------------------------------------------------

    def roadmap(self) -> dict[str, Any] | None:
        """The latest saved roadmap document (planned, effort, launches, fixes), else None."""
        with self.sessions() as session:
            return session.scalar(select(RoadmapVersion.document)
                                  .order_by(RoadmapVersion.id.desc()).limit(1))

    def save_roadmap(self, doc: dict[str, Any], author: str | None = None) -> RoadmapVersion:
        """Validate ``doc`` against the active taxonomy and store it as the latest roadmap
        (earlier ones stay as history). Creates no taxonomy version and no job: effort sizes
        and plans change no tag."""
        from themer.analytics.priorities import roadmap_from_dict  # scipy: only when saving

        with self.sessions.begin() as session:
            active = session.scalar(select(TaxonomyVersion).where(TaxonomyVersion.active))
            if active is None:
                raise Errors.THM510.error()
            taxonomy = parse_taxonomy(active.yaml, f"taxonomy version {active.version}")
            roadmap = roadmap_from_dict(doc, taxonomy, "roadmap")
            row = RoadmapVersion(document=roadmap.model_dump(mode="json"), author=author,
                                 taxonomy_version_id=active.id)
            session.add(row)
        return row

    # --- API keys and idempotency ----------------------------------------------------------

    def deliveries(self, subscription_id: int, state: str | None, limit: int, offset: int
                   ) -> list[dict[str, Any]]:
        query = select(WebhookDelivery).where(WebhookDelivery.subscription_id == subscription_id)
        if state is not None:
            query = query.where(WebhookDelivery.state == state)
        with self.sessions() as session:
            rows = session.scalars(query.order_by(WebhookDelivery.id).limit(limit)
                                   .offset(offset)).all()
        return [{"id": d.id, "state": d.state, "attempts": d.attempts,
                 "last_status": d.last_status, "last_error": d.last_error,
                 "response_id": d.payload.get("id"),
                 "delivered_at": d.delivered_at.isoformat() if d.delivered_at else None}
                for d in rows]

    def count_responses(self) -> int:
        with self.sessions() as session:
            return int(session.scalar(select(func.count(ResponseRow.id))) or 0)


