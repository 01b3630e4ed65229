"""Webhook routing, signatures, retries and dead letters, against a real local HTTP receiver."""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from themer.errors import InputFileError
from themer.nlp.embed import SentenceTransformerEncoder
from themer.nlp.split import StatementSplitter
from themer.nlp.tagger import Tagger
from themer.store.models import WebhookDelivery
from themer.store.pipeline import tag_stored
from themer.store.repository import ResponseIn, Store
from themer.store.webhooks import MAX_ATTEMPTS, deliver_due, subscribe
from themer.taxonomy import parse_taxonomy

ROOT = Path(__file__).resolve().parents[2]
V1 = (ROOT / "taxonomy.yaml").read_text(encoding="utf-8")


class Receiver:
    """A local HTTP endpoint answering with the given statuses in turn (then the last)."""

    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses
        self.requests: list[tuple[dict[str, str], bytes]] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.requests.append((dict(self.headers), body))
                index = min(len(receiver.requests), len(receiver.statuses)) - 1
                self.send_response(receiver.statuses[index])
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    flaky = Receiver([500, 200])
    yield flaky
    flaky.close()


def _tagged(store_url: str, encoder: SentenceTransformerEncoder, splitter: StatementSplitter,
            subscribe_first: dict[str, Any]) -> tuple[Store, str]:
    store = Store.open(store_url)
    version = store.activate_taxonomy(parse_taxonomy(V1), V1)
    _, secret = subscribe(store, **subscribe_first)
    results = store.ingest([
        ResponseIn(id="d1", score=2, comments={"reason": "Search never finds anything."}),
        ResponseIn(id="p1", score=10, comments={"reason": "Search is great."}),
        ResponseIn(id="d2", score=3, comments={"reason": "The app is so slow, pages take "
                                                         "forever to load."}),
        ResponseIn(id="d3", score=1, comments={"reason": ""})])
    tagger = Tagger.build(parse_taxonomy(V1), encoder, splitter)
    tag_stored(store, tagger, version.id, [r.id for r in results])
    return store, secret


def test_deliveries_are_signed_retried_and_recorded(
        store_url: str, receiver: Receiver, encoder: SentenceTransformerEncoder,
        splitter: StatementSplitter) -> None:
    store, secret = _tagged(store_url, encoder, splitter, {
        "url": receiver.url, "theme": "search", "category": "detractor"})
    with store.sessions() as session:
        queued = session.scalars(select(WebhookDelivery)).all()
    assert [d.payload["id"] for d in queued] == ["d1"]  # search + detractor only
    now = datetime.now(UTC)
    assert deliver_due(store, now=now) == {"delivered": 0, "retry": 1, "dead": 0}
    assert deliver_due(store, now=now + timedelta(seconds=5)) == {
        "delivered": 0, "retry": 0, "dead": 0}  # backing off
    assert deliver_due(store, now=now + timedelta(seconds=31)) == {
        "delivered": 1, "retry": 0, "dead": 0}
    assert len(receiver.requests) == 2
    headers, body = receiver.requests[-1]
    expected = hmac.new(secret.encode(), headers["X-Themer-Timestamp"].encode() + b"." + body,
                        hashlib.sha256).hexdigest()
    assert headers["X-Themer-Signature"] == f"sha256={expected}"
    payload = json.loads(body)
    assert (payload["id"], payload["category"], payload["event"]) == (
        "d1", "detractor", "response.tagged")
    assert "search" in payload["areas"]
    with store.sessions() as session:
        delivery = session.scalars(select(WebhookDelivery)).one()
    assert (delivery.state, delivery.attempts, delivery.last_status) == ("delivered", 2, 200)


def test_owner_routing_and_dead_letters(store_url: str, encoder: SentenceTransformerEncoder,
                                        splitter: StatementSplitter) -> None:
    down = Receiver([503])
    try:
        store, _ = _tagged(store_url, encoder, splitter, {"url": down.url, "owner": "platform"})
        with store.sessions() as session:
            queued = session.scalars(select(WebhookDelivery)).all()
        owned = {label.id for label in parse_taxonomy(V1).taxonomy.areas
                 if label.owner == "platform"}
        assert "d2" in {d.payload["id"] for d in queued}  # performance is owned by platform
        assert all(owned & set(d.payload["areas"]) for d in queued)
        assert len(queued) < 4
        now = datetime.now(UTC)
        for attempt in range(MAX_ATTEMPTS):
            deliver_due(store, now=now + timedelta(hours=attempt))
        with store.sessions() as session:
            deliveries = session.scalars(select(WebhookDelivery)).all()
        assert {(d.state, d.attempts, d.last_status) for d in deliveries} == {
            ("dead", MAX_ATTEMPTS, 503)}
        assert len(down.requests) == MAX_ATTEMPTS * len(deliveries)
        assert deliver_due(store, now=now + timedelta(days=1)) == {
            "delivered": 0, "retry": 0, "dead": 0}
    finally:
        down.close()


def test_only_http_urls(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'w.db'}")
    with pytest.raises(InputFileError, match="must be http"):
        subscribe(store, "file:///etc/passwd")
