"""Close the loop: route newly tagged comments to the owning team's URL, signed, retried, recorded.

A subscription matches a response when one of its areas is the subscription's ``theme``, or is
owned (``owner:`` in the taxonomy) by the subscription's ``owner``, and, if set, the response's
NPS group is ``category``. Each (subscription, response) pair is queued once (unique key).

Deliveries are POSTed as JSON with ``X-Themer-Signature: sha256=<HMAC-SHA256(secret, timestamp
+ "." + body)>`` and ``X-Themer-Timestamp`` (receivers should reject old timestamps), retried
with exponential backoff (``BACKOFF_SECONDS * 2^(attempt-1)``) and dead-lettered after
``MAX_ATTEMPTS``; every attempt's status and error are recorded.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select, update

from themer.errors import Errors
from themer.schema import UNASSIGNED
from themer.store.models import (
    ResponseRow,
    StatementRow,
    TagRow,
    TaxonomyVersion,
    WebhookDelivery,
    WebhookSubscription,
)
from themer.store.repository import Store
from themer.taxonomy import parse_taxonomy

__all__ = ["BACKOFF_SECONDS", "MAX_ATTEMPTS", "deliver_due", "enqueue_deliveries", "sign",
           "subscribe"]

MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 30.0
TIMEOUT_SECONDS = 10.0
BATCH = 100


def sign(secret: str, timestamp: str, body: bytes) -> str:
    """The signature header value for ``body`` sent at ``timestamp``."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + digest.hexdigest()


def subscribe(store: Store, url: str, *, theme: str | None = None, owner: str | None = None,
              category: str | None = None) -> tuple[WebhookSubscription, str]:
    """A new subscription and its signing secret (shown once to the caller)."""
    if urllib.parse.urlsplit(url).scheme not in ("http", "https") or len(url) > 2000:
        raise Errors.THM169.error(url=url[:100])
    secret = "whsec_" + secrets.token_urlsafe(24)
    with store.sessions.begin() as session:
        subscription = WebhookSubscription(url=url, theme=theme, owner=owner, category=category,
                                           secret=secret)
        session.add(subscription)
    return subscription, secret


def enqueue_deliveries(store: Store, version: TaxonomyVersion,
                       response_ids: Sequence[int]) -> int:
    """Queue a delivery for every (matching subscription, response); returns how many."""
    with store.sessions() as session:
        subscriptions = list(session.scalars(select(WebhookSubscription)
                                             .where(WebhookSubscription.active)))
    if not subscriptions or not response_ids:
        return 0
    owners = {label.id: label.owner for label in
              parse_taxonomy(version.yaml, f"taxonomy v{version.version}").taxonomy.areas}
    rows: list[dict[str, Any]] = []
    ids = list(response_ids)
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        with store.sessions() as session:
            found = session.execute(
                select(ResponseRow.id, ResponseRow.source, ResponseRow.source_response_id,
                       ResponseRow.score, ResponseRow.category, ResponseRow.survey_type,
                       StatementRow.text, TagRow.label)
                .join(StatementRow, StatementRow.response_id == ResponseRow.id)
                .join(TagRow, TagRow.statement_id == StatementRow.id)
                .where(ResponseRow.id.in_(chunk), TagRow.taxonomy_version_id == version.id,
                       TagRow.kind == "area", TagRow.label != UNASSIGNED)).all()
        by_response: dict[int, dict[str, Any]] = {}
        for r in found:
            entry = by_response.setdefault(r.id, {
                "response": {"id": r.source_response_id, "source": r.source, "score": r.score,
                             "category": r.category, "survey_type": r.survey_type},
                "areas": set(), "statements": {}})
            entry["areas"].add(r.label)
            entry["statements"].setdefault(r.text, set()).add(r.label)
        for response_id, entry in by_response.items():
            for subscription in subscriptions:
                if not _matches(subscription, entry, owners):
                    continue
                rows.append({"subscription_id": subscription.id, "response_id": response_id,
                             "payload": {
                                 "event": "response.tagged", **entry["response"],
                                 "areas": sorted(entry["areas"]),
                                 "statements": [{"text": text, "areas": sorted(labels)}
                                                for text, labels in entry["statements"].items()],
                                 "taxonomy_version": version.version},
                             "state": "pending", "attempts": 0,
                             "next_attempt_at": datetime.now(UTC),
                             "created_at": datetime.now(UTC)})
    if not rows:
        return 0
    with store.sessions.begin() as session:
        session.execute(store.insert_ignoring_duplicates(
            WebhookDelivery, "subscription_id", "response_id"), rows)
    return len(rows)


def _matches(subscription: WebhookSubscription, entry: dict[str, Any],
             owners: dict[str, str | None]) -> bool:
    if subscription.category and entry["response"]["category"] != subscription.category:
        return False
    areas: set[str] = entry["areas"]
    if subscription.theme and subscription.theme not in areas:
        return False
    return not subscription.owner or any(owners.get(a) == subscription.owner for a in areas)


def deliver_due(store: Store, *, now: datetime | None = None, limit: int = BATCH) -> dict[str, int]:
    """Attempt the pending deliveries that are due; returns counts by outcome."""
    now = now or datetime.now(UTC)
    with store.sessions() as session:
        due = session.execute(
            select(WebhookDelivery, WebhookSubscription)
            .join(WebhookSubscription, WebhookSubscription.id == WebhookDelivery.subscription_id)
            .where(WebhookDelivery.state == "pending", WebhookDelivery.next_attempt_at <= now)
            .order_by(WebhookDelivery.id).limit(limit)).all()
    outcome = {"delivered": 0, "retry": 0, "dead": 0}
    for delivery, subscription in due:
        body = json.dumps({"delivery_id": delivery.id, **delivery.payload},
                          sort_keys=True).encode()
        timestamp = str(int(now.timestamp()))
        request = urllib.request.Request(subscription.url, data=body, method="POST", headers={
            "Content-Type": "application/json", "User-Agent": "themer-webhooks",
            "X-Themer-Delivery": str(delivery.id), "X-Themer-Timestamp": timestamp,
            "X-Themer-Signature": sign(subscription.secret, timestamp, body)})
        status: int | None = None
        error: str | None = None
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as answer:
                status = int(answer.status)
        except urllib.error.HTTPError as exc:
            status, error = exc.code, f"HTTP {exc.code}"
        except (urllib.error.URLError, OSError) as exc:
            error = f"{type(exc).__name__}: {exc}"
        attempts = delivery.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "last_status": status,
                                  "last_error": error}
        if status is not None and 200 <= status < 300:
            values.update(state="delivered", delivered_at=now, last_error=None)
            outcome["delivered"] += 1
        elif attempts >= MAX_ATTEMPTS:
            values.update(state="dead")
            outcome["dead"] += 1
        else:
            values.update(next_attempt_at=now + timedelta(
                seconds=BACKOFF_SECONDS * 2 ** (attempts - 1)))
            outcome["retry"] += 1
        with store.sessions.begin() as session:
            session.execute(update(WebhookDelivery).where(WebhookDelivery.id == delivery.id)
                            .values(**values))
    return outcome
