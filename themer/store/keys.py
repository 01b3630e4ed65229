"""API keys (only a hash is stored) and idempotency records: a part of ``Store``."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Engine, and_, select
from sqlalchemy.orm import Session, sessionmaker

from themer.store.db import insert_ignoring_duplicates
from themer.store.models import ApiKey, IdempotencyRecord

__all__ = ["KEY_PREFIX_CHARS", "SCOPE_RANK", "ApiKeys", "Scope", "scope_allows"]

Scope = Literal["read", "write", "admin"]
SCOPE_RANK = {"read": 0, "write": 1, "admin": 2}
KEY_PREFIX_CHARS = 12


def _hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def scope_allows(granted: str, needed: Scope) -> bool:
    return SCOPE_RANK.get(granted, -1) >= SCOPE_RANK[needed]


class ApiKeys:
    """Store methods for API keys and the answers replayed for an Idempotency-Key."""

    engine: Engine
    sessions: sessionmaker[Session]

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
            session.execute(insert_ignoring_duplicates(
                self.engine, IdempotencyRecord, "api_key_id", "key").values(
                api_key_id=api_key_id, key=key, request_hash=request_hash,
                status_code=status_code, body=body, created_at=datetime.now(UTC)))
