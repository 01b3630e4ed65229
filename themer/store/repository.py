"""The store's operations: ingest (idempotent), tags, taxonomy versions, API keys, analysis frames.

Every write is one transaction: a batch lands whole or not at all. Queries are SQLAlchemy
expressions (no SQL from strings). The analysis frames have the shape ``themer.ingest.tables``
and the tagger
produce, so the same analysis functions serve the CLI and the API.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
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
from sqlalchemy import Engine, Select, and_, delete, func, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from themer.errors import InputFileError
from themer.nlp.split import (
    MAX_COMMENT_CHARS,  # the splitter's cut: the API refuses rather than cuts
)
from themer.schema import SCALES, STATEMENT_COLUMNS, STATEMENT_TYPES, UNASSIGNED
from themer.store.db import connect, migrate, sessions
from themer.store.models import (
    ApiKey,
    Base,
    IdempotencyRecord,
    ResponseRow,
    StatementRow,
    TagRow,
    TaxonomyVersion,
    WebhookDelivery,
)
from themer.taxonomy import TaxonomyInfo

__all__ = ["MAX_COMMENT_CHARS", "Filters", "IngestResult", "ResponseIn", "Scope", "Store",
           "responses_from_frame"]

MAX_QUESTIONS = 10
MAX_SEGMENTS = 50
INSERT_ROWS = 1_000  # rows per INSERT statement
BULK_ROWS = 50_000  # rows per executemany of tag rows (memory bound, not a SQL limit)
Scope = Literal["read", "write", "admin"]
SCOPE_RANK = {"read": 0, "write": 1, "admin": 2}
KEY_PREFIX_CHARS = 12


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
    """``themer.ingest.tables.load_responses`` rows as ``ResponseIn`` (for imports into the store).

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
            raise InputFileError(
                f"{origin}, row {row.get('row', '?')}: {where}: {first['msg']}. Nothing was "
                "written; fix the row (or drop it) and import again.", code="THM178") from None
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


def _statements_of(first: int, last: int) -> Select[Any]:
    """Ids of the statements of responses first..last. As ``statement_id IN (this)`` the tag
    lookup uses the (statement, version) unique index; a join let SQLite walk every tag of the
    version instead, once per chunk."""
    return select(StatementRow.id).where(StatementRow.response_id.between(first, last))


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class Store:
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
        insert_for = (postgresql.insert if self.engine.dialect.name == "postgresql"
                      else sqlite.insert)
        return insert_for(model).on_conflict_do_nothing(index_elements=list(unique))

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

    # --- analysis --------------------------------------------------------------------------

    def analysis_frames(self, filters: Filters, taxonomy_version_id: int, *,
                        with_text: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
        """(responses, tags) in the shapes of ``themer.ingest.tables`` and the tagger, for the
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

    # --- API keys and idempotency ----------------------------------------------------------

    def create_key(self, scope: Scope, name: str | None = None) -> str:
        """A new API key, returned once; only its SHA-256 is stored."""
        if scope not in SCOPE_RANK:
            raise ValueError(f"scope must be read, write or admin, not {scope!r}")
        secret = "thm_" + secrets.token_urlsafe(32)
        with self.sessions.begin() as session:
            session.add(ApiKey(prefix=secret[:KEY_PREFIX_CHARS], key_hash=_hash(secret),
                               scope=scope, name=name))
        return secret

    def find_key(self, presented: str) -> ApiKey | None:
        """The live key matching ``presented`` (constant-time hash comparison), else None."""
        with self.sessions() as session:
            key = session.scalar(select(ApiKey).where(
                and_(ApiKey.prefix == presented[:KEY_PREFIX_CHARS], ApiKey.revoked_at.is_(None))))
        if key is None or not hmac.compare_digest(key.key_hash, _hash(presented)):
            return None
        return key

    def replay(self, api_key_id: int, key: str) -> IdempotencyRecord | None:
        with self.sessions() as session:
            return session.scalar(select(IdempotencyRecord).where(
                IdempotencyRecord.api_key_id == api_key_id, IdempotencyRecord.key == key))

    def remember(self, api_key_id: int, key: str, request_hash: str, status_code: int,
                 body: dict[str, Any]) -> None:
        with self.sessions.begin() as session:
            session.execute(self.insert_ignoring_duplicates(
                IdempotencyRecord, "api_key_id", "key").values(
                api_key_id=api_key_id, key=key, request_hash=request_hash,
                status_code=status_code, body=body, created_at=datetime.now(UTC)))

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


def scope_allows(granted: str, needed: Scope) -> bool:
    return SCOPE_RANK.get(granted, -1) >= SCOPE_RANK[needed]
