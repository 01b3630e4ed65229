"""The store's tables (SQLAlchemy 2). One schema for SQLite (embedded) and PostgreSQL (production).

Embeddings are not here: they stay in the on-disk cache (themer.nlp.cache), a memory-mapped float32
file per model keyed by text hash. A re-tag streams a million vectors from it in ~7 s; as
database blobs the same vectors made tagging 200k responses 37% slower (memory_200k.py, 480 s vs
351 s) and would bloat backups of the store with data that is derived and can be rebuilt.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

__all__ = ["ApiKey", "Base", "DiscoveryDecision", "DiscoveryRun", "IdempotencyRecord", "Job",
           "LabelRow", "ResponseRow", "RoadmapVersion", "StatementRow", "TagRow",
           "TaxonomyVersion", "WebhookDelivery", "WebhookSubscription"]

# BigInteger ids on PostgreSQL, INTEGER PRIMARY KEY (rowid) on SQLite.
Id = BigInteger().with_variant(Integer(), "sqlite")


def utcnow() -> datetime:
    return datetime.now(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON,
                                                     datetime: DateTime(timezone=True)}


class ResponseRow(Base):
    """One survey response; ingest is idempotent on the natural key (source, source_response_id)."""

    __tablename__ = "responses"
    __table_args__ = (UniqueConstraint("source", "source_response_id", name="uq_response_source"),
                      Index("ix_responses_type_date", "survey_type", "responded_at"))

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(200))
    source_response_id: Mapped[str] = mapped_column(String(200))
    score: Mapped[int] = mapped_column(Integer)
    scale: Mapped[str] = mapped_column(String(20), default="nps")
    category: Mapped[str] = mapped_column(String(10))
    survey_id: Mapped[str | None] = mapped_column(String(200))
    survey_type: Mapped[str] = mapped_column(String(100))
    respondent_id: Mapped[str | None] = mapped_column(String(200))
    responded_at: Mapped[date | None] = mapped_column(Date)
    comments: Mapped[dict[str, Any]] = mapped_column(default=dict)  # question -> text
    segments: Mapped[dict[str, Any]] = mapped_column(default=dict)  # name -> value
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)  # the payload as received
    import_batch: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    statements: Mapped[list[StatementRow]] = relationship(back_populates="response",
                                                          cascade="all, delete-orphan")


class StatementRow(Base):
    __tablename__ = "statements"
    __table_args__ = (UniqueConstraint("response_id", "question", "start", name="uq_statement"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"),
                                             index=True)
    question: Mapped[str] = mapped_column(String(200))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)

    response: Mapped[ResponseRow] = relationship(back_populates="statements")


class TaxonomyVersion(Base):
    __tablename__ = "taxonomy_versions"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    version: Mapped[int] = mapped_column(Integer)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    yaml: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(String(200))
    diff: Mapped[str | None] = mapped_column(Text)  # unified diff from the previous version
    active: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class RoadmapVersion(Base):
    """One saved roadmap document (planned, effort, launches, fixes); the newest row is the
    roadmap. Kept apart from the taxonomy: saving one changes no taxonomy hash and re-tags
    nothing. ``taxonomy_version_id``: the taxonomy it was checked against."""

    __tablename__ = "roadmaps"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    document: Mapped[dict[str, Any]] = mapped_column()
    author: Mapped[str | None] = mapped_column(String(200))
    taxonomy_version_id: Mapped[int | None] = mapped_column(ForeignKey("taxonomy_versions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class TagRow(Base):
    __tablename__ = "tags"
    __table_args__ = (
        UniqueConstraint("statement_id", "taxonomy_version_id", "kind", "label", name="uq_tag"),
        Index("ix_tags_version_label", "taxonomy_version_id", "kind", "label"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"),
                                              index=True)
    taxonomy_version_id: Mapped[int] = mapped_column(ForeignKey("taxonomy_versions.id"))
    kind: Mapped[str] = mapped_column(String(10))
    label: Mapped[str] = mapped_column(String(200))
    confidence: Mapped[float] = mapped_column(Float)
    head_version: Mapped[str] = mapped_column(String(200))  # "zero-shot" or the head's hash


class Job(Base):
    """A background job. ``cursor`` is the last response id fully done: a worker that dies is
    replaced by one that resumes after it (chunks are idempotent, so none is lost or doubled)."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_state_created", "state", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(50))
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(20), default="queued")
    cursor: Mapped[int] = mapped_column(BigInteger, default=0)
    done: Mapped[int] = mapped_column(BigInteger, default=0)
    total: Mapped[int] = mapped_column(BigInteger, default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[str | None] = mapped_column(Text)
    worker: Mapped[str | None] = mapped_column(String(200))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    started_at: Mapped[datetime | None] = mapped_column()
    finished_at: Mapped[datetime | None] = mapped_column()
    heartbeat_at: Mapped[datetime | None] = mapped_column()


class ApiKey(Base):
    """Only the SHA-256 of a key is stored; ``prefix`` (not secret) finds the row."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    prefix: Mapped[str] = mapped_column(String(16), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(10))
    name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column()


class IdempotencyRecord(Base):
    """The first answer to a request with an Idempotency-Key, replayed on retries."""

    __tablename__ = "idempotency_keys"
    __table_args__ = (UniqueConstraint("api_key_id", "key", name="uq_idempotency"),)

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    key: Mapped[str] = mapped_column(String(200))
    request_hash: Mapped[str] = mapped_column(String(64))
    status_code: Mapped[int] = mapped_column(Integer)
    body: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookSubscription(Base):
    """Route new tagged responses to a team's URL. ``secret`` signs the deliveries (HMAC needs
    the secret itself, so unlike API keys it is stored as is; it is shown once at creation)."""

    __tablename__ = "webhook_subscriptions"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    url: Mapped[str] = mapped_column(String(2000))
    theme: Mapped[str | None] = mapped_column(String(200))  # an area id, or None
    owner: Mapped[str | None] = mapped_column(String(200))  # the taxonomy's owner of the area
    category: Mapped[str | None] = mapped_column(String(10))  # e.g. detractor, or None = all
    secret: Mapped[str] = mapped_column(String(100))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        UniqueConstraint("subscription_id", "response_id", name="uq_delivery"),
        Index("ix_deliveries_due", "state", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    subscription_id: Mapped[int] = mapped_column(ForeignKey("webhook_subscriptions.id",
                                                            ondelete="CASCADE"))
    response_id: Mapped[int] = mapped_column(ForeignKey("responses.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column()
    state: Mapped[str] = mapped_column(String(20), default="pending")  # delivered | dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DiscoveryRun(Base):
    """The result of a discovery job (``id`` = the job's id): candidates, members, rates."""

    __tablename__ = "discovery_runs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    taxonomy_version_id: Mapped[int] = mapped_column(ForeignKey("taxonomy_versions.id"))
    params: Mapped[dict[str, Any]] = mapped_column()
    result: Mapped[dict[str, Any]] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DiscoveryDecision(Base):
    """An analyst's promote / merge / rename / discard of a candidate (applied to later runs)."""

    __tablename__ = "discovery_decisions"

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(36))
    action: Mapped[str] = mapped_column(String(10))
    candidate: Mapped[str] = mapped_column(String(64), index=True)
    into: Mapped[str | None] = mapped_column(String(64))
    label: Mapped[str | None] = mapped_column(String(200))
    area: Mapped[str | None] = mapped_column(String(64))
    by: Mapped[str | None] = mapped_column(String(200))
    taxonomy_version_id: Mapped[int | None] = mapped_column(ForeignKey("taxonomy_versions.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class LabelRow(Base):
    """An analyst's label of one stored statement against one taxonomy version: the areas it
    is about (none: "none of these"), its type (or none), and optionally the name of a theme
    the taxonomy lacks. One current label per (statement, version): relabelling replaces it."""

    __tablename__ = "labels"
    __table_args__ = (UniqueConstraint("statement_id", "taxonomy_version_id", name="uq_label"),
                      Index("ix_labels_version", "taxonomy_version_id"))

    id: Mapped[int] = mapped_column(Id, primary_key=True, autoincrement=True)
    statement_id: Mapped[int] = mapped_column(ForeignKey("statements.id", ondelete="CASCADE"))
    taxonomy_version_id: Mapped[int] = mapped_column(ForeignKey("taxonomy_versions.id"))
    areas: Mapped[list[str]] = mapped_column(JSON, default=list)
    type: Mapped[str | None] = mapped_column(String(200))
    new_theme: Mapped[str | None] = mapped_column(String(200))
    labelled_by: Mapped[str] = mapped_column(String(200))
    labelled_at: Mapped[datetime] = mapped_column(default=utcnow)
