"""The HTTP API over a real store (SQLite and PostgreSQL) and the real model."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.limits import RateLimiter
from themer.config import Settings
from themer.store.repository import Store

ROOT = Path(__file__).resolve().parent.parent


def _settings(url: str, tmp_path: Path, **overrides: object) -> Settings:
    models = tmp_path / "models"  # no trained heads: zero-shot, whatever models/ holds
    models.mkdir(exist_ok=True)
    return Settings(database_url=url, cache_dir=tmp_path / "cache",
                    taxonomy=ROOT / "taxonomy.yaml", models_dir=models, **overrides)


@pytest.fixture
def client(store_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    settings = _settings(store_url, tmp_path, max_batch=4, max_body_bytes=20_000)
    store = Store.open(store_url)
    keys = {scope: store.create_key(scope) for scope in ("read", "write", "admin")}  # type: ignore[arg-type]
    with TestClient(create_app(settings)) as test_client:
        yield test_client, keys


def _auth(key: str) -> dict[str, str]:
    return {"X-API-Key": key}


SURVEY = [
    {"id": "a1", "score": 2, "comments": {"reason": "Search never finds anything."},
     "segments": {"plan": "free"}, "responded_at": "2025-03-02"},
    {"id": "a2", "score": 3, "comments": {"reason": "The search is broken again."},
     "segments": {"plan": "free"}},
    {"id": "a3", "score": 10, "comments": {"reason": "Love the dashboards."},
     "segments": {"plan": "pro"}},
    {"id": "a4", "score": 8, "comments": {"reason": ""}, "segments": {"plan": "pro"}},
]


def test_health_and_readiness(client: tuple[TestClient, dict[str, str]]) -> None:
    test_client, _ = client
    assert test_client.get("/healthz").json() == {"status": "ok"}
    deadline = time.monotonic() + 120
    while (ready := test_client.get("/readyz")).status_code == 503:
        assert ready.json()["store"] == "ok"
        assert time.monotonic() < deadline, "model never loaded"
        time.sleep(0.5)
    assert ready.json() == {"store": "ok", "model": "loaded"}


def test_keys_and_scopes(client: tuple[TestClient, dict[str, str]]) -> None:
    test_client, keys = client
    body = {"responses": SURVEY[:1]}
    missing = test_client.get("/v1/taxonomy")
    assert missing.status_code == 401
    assert missing.headers["content-type"] == "application/problem+json"
    assert missing.json()["code"] == "THM610"
    assert test_client.get("/v1/taxonomy", headers=_auth("thm_wrong")).json()["code"] == \
        "THM611"
    forbidden = test_client.post("/v1/responses", json=body, headers=_auth(keys["read"]))
    assert forbidden.status_code == 403
    assert "scope is read" in forbidden.json()["detail"]
    bearer = {"Authorization": f"Bearer {keys['read']}"}
    assert test_client.get("/v1/taxonomy", headers=bearer).status_code == 200
    assert test_client.post("/v1/responses", json=body,
                            headers=_auth(keys["admin"])).status_code == 200


def test_classify_stores_nothing(client: tuple[TestClient, dict[str, str]],
                                 store_url: str) -> None:
    test_client, keys = client
    answer = test_client.post("/v1/classify", headers=_auth(keys["read"]), json={"comments": [
        {"id": "c1", "text": "Search never finds anything, but support was great."},
        {"id": "c2", "text": ""}]})
    assert answer.status_code == 200, answer.text
    first, empty = answer.json()["results"]
    assert first["id"] == "c1"
    assert empty == {"id": "c2", "statements": []}
    statements = first["statements"]
    assert len(statements) == 2
    assert statements[0]["statement"].startswith("Search never finds anything")
    assert any(a["label"] == "search" for a in statements[0]["areas"])
    assert statements[1]["type"]["label"] == "praise"
    assert Store.open(store_url).count_responses() == 0


def test_limits(client: tuple[TestClient, dict[str, str]]) -> None:
    test_client, keys = client
    too_many = test_client.post("/v1/classify", headers=_auth(keys["read"]),
                                json={"comments": [{"text": "ok"}] * 5})
    assert too_many.status_code == 422
    assert "the limit is 4" in too_many.json()["detail"]
    too_big = test_client.post("/v1/classify", headers=_auth(keys["read"]),
                               json={"comments": [{"text": "x" * 9_000}] * 3})
    assert too_big.status_code == 413
    assert too_big.json()["code"] == "THM602"
    invalid = test_client.post("/v1/responses", headers=_auth(keys["write"]),
                               json={"responses": [{"id": "z", "score": 12}]})
    assert invalid.status_code == 422
    assert invalid.json()["code"] == "THM601"
    assert "responses.0" in invalid.json()["detail"]


def test_ingest_is_idempotent_and_feeds_the_analytics(
        client: tuple[TestClient, dict[str, str]], store_url: str) -> None:
    test_client, keys = client
    write = _auth(keys["write"])
    first = test_client.post("/v1/responses", json={"responses": SURVEY}, headers=write)
    assert first.status_code == 200, first.text
    assert (first.json()["created"], first.json()["existing"]) == (4, 0)
    assert first.json()["tag_rows"] > 0
    again = test_client.post("/v1/responses", json={"responses": SURVEY}, headers=write)
    assert (again.json()["created"], again.json()["existing"]) == (0, 4)
    keyed = {**write, "Idempotency-Key": "batch-7"}
    extra = {"responses": [{"id": "t1", "score": 9, "survey_type": "transactional",
                            "comments": {"reason": "Support solved it fast."}}]}
    once = test_client.post("/v1/responses", json=extra, headers=keyed)
    replay = test_client.post("/v1/responses", json=extra, headers=keyed)
    assert replay.headers.get("Idempotent-Replay") == "true"
    assert replay.json() == once.json()
    reused = test_client.post("/v1/responses", json={"responses": SURVEY[:1]}, headers=keyed)
    assert reused.status_code == 422
    assert reused.json()["code"] == "THM622"
    assert Store.open(store_url).count_responses() == 5

    read = _auth(keys["read"])
    mixed = test_client.get("/v1/themes", headers=read)
    assert mixed.status_code == 422
    assert mixed.json()["code"] == "THM624"  # never pooled silently
    themes = test_client.get("/v1/themes", headers=read,
                             params={"survey_type": "relationship", "min_n": 1})
    assert themes.status_code == 200, themes.text
    table = themes.json()
    assert table["overall"]["n"] == 4
    assert table["overall"]["nps"] == pytest.approx(100 * (1 - 2) / 4)
    search = next(t for t in table["themes"] if t["theme"] == "search" and t["kind"] == "area")
    assert (search["n"], search["detractors"]) == (2, 2)
    free = test_client.get("/v1/themes", headers=read, params={
        "survey_type": "relationship", "segment": "plan=free", "min_n": 1}).json()
    assert free["overall"]["n"] == 2
    page = test_client.get("/v1/themes", headers=read, params={
        "survey_type": "relationship", "limit": 1, "offset": 1}).json()
    assert len(page["themes"]) == 1
    assert page["total"] == len(table["themes"])
    comments = test_client.get("/v1/themes/search/comments", headers=read,
                               params={"category": "detractor"}).json()
    assert comments["total"] == 2
    assert {c["response_id"] for c in comments["comments"]} == {"a1", "a2"}
    assert all(c["score"] <= 6 for c in comments["comments"])
    segments = test_client.get("/v1/segments", headers=read,
                               params={"survey_type": "relationship", "min_n": 1}).json()
    assert {r["value"] for r in segments["segments"]} == {"free", "pro"}
    versions = test_client.get("/v1/taxonomy", headers=read).json()["versions"]
    assert [v["active"] for v in versions] == [True]


def test_openapi_documents_every_route(client: tuple[TestClient, dict[str, str]]) -> None:
    test_client, _ = client
    schema = test_client.get("/openapi.json").json()
    assert schema["openapi"].startswith("3.")
    assert {"/v1/classify", "/v1/responses", "/v1/themes", "/v1/themes/{theme}/comments",
            "/v1/segments", "/v1/taxonomy", "/healthz", "/readyz"} <= set(schema["paths"])
    assert "ResponseIn" in schema["components"]["schemas"]


def test_rate_limit(tmp_path: Path) -> None:
    limiter = RateLimiter(per_minute=2)
    assert limiter.take("k") == 0
    assert limiter.take("k") == 0
    assert limiter.take("k") > 0  # third within the minute waits
    assert limiter.take("other") == 0
    url = f"sqlite:///{tmp_path / 'rate.db'}"
    key = Store.open(url).create_key("read")
    with TestClient(create_app(_settings(url, tmp_path, rate_limit_per_minute=1))) as test_client:
        assert test_client.get("/v1/taxonomy", headers=_auth(key)).status_code == 200
        limited = test_client.get("/v1/taxonomy", headers=_auth(key))
        assert limited.status_code == 429
        assert int(limited.headers["Retry-After"]) >= 1
