"""The HTTP API over a real store (SQLite and PostgreSQL) and the real model."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.limits import RateLimiter
from themer.config import Settings
from themer.store.repository import Store

ROOT = Path(__file__).resolve().parents[2]


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
    assert mixed.json()["code"] == "THM118"  # never pooled silently
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
    assert {"/v1/impact", "/v1/validate", "/v1/behaviour", "/v1/pmf", "/v1/adoption",
            "/v1/trends", "/v1/priorities", "/v1/report", "/v1/discover",
            "/v1/roadmap"} <= set(schema["paths"])  # every analysis the CLI has
    plain = {("get", "/metrics"), ("get", "/v1/report")}  # Prometheus text, HTML
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            if (method, path) in plain:
                continue
            answers = [r for code, r in operation["responses"].items() if code.startswith("2")]
            assert any(r.get("content", {}).get("application/json", {}).get("schema")
                       for r in answers), f"{method} {path}: no response model"


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


def _wait_for_job(test_client: TestClient, location: str, headers: dict[str, str]) -> dict:
    deadline = time.monotonic() + 120
    while (job := test_client.get(location, headers=headers).json())["state"] != "done":
        assert job["state"] in ("queued", "running"), job
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    return job


def test_imports_big_batches_and_analytics_routes(
        client: tuple[TestClient, dict[str, str]], tmp_path: Path) -> None:
    test_client, keys = client
    admin = _auth(keys["admin"])
    export = tmp_path / "export.csv"
    export.write_text(
        "rid,nps,why,when,tier,uses_api\n"
        "e1,2,Search never finds anything.,2025-01-10,free,0\n"
        "e2,9,Love the dashboards.,2025-01-20,pro,1\n"
        "e3,7,The API rate limits are too low.,2025-02-03,pro,1\n"
        "e4,4,The app is so slow.,2025-02-14,free,0\n", encoding="utf-8")
    mapping = ("id: rid\nscore: nps\ntext: [why]\ndate: when\n"
               "segments: {plan: tier, uses_api: uses_api}\n")
    with export.open("rb") as handle:
        started = test_client.post("/v1/imports", headers=admin, data={
            "mapping": mapping, "source": "csv"}, files={"file": ("export.csv", handle)})
    assert started.status_code == 202, started.text
    assert started.json()["created"] == 4
    job = _wait_for_job(test_client, started.headers["Location"], admin)
    assert job["done"] == 4
    bad = tmp_path / "bad.csv"
    bad.write_text("rid,nps,why\nx1,12,too high\n", encoding="utf-8")
    with bad.open("rb") as handle:
        refused = test_client.post("/v1/imports", headers=admin, data={"mapping": mapping},
                                   files={"file": ("bad.csv", handle)})
    assert refused.status_code == 422
    assert "bad.csv" in refused.json()["detail"]
    assert "tmp" not in refused.json()["detail"].split("bad.csv")[0]  # no server paths

    big = test_client.post("/v1/responses", headers=admin, json={"responses": [
        {"id": f"b{i}", "score": 8, "comments": {"reason": "Reports load slowly."},
         "responded_at": "2025-03-01", "survey_type": "unspecified",
         "segments": {"plan": "pro", "uses_api": "0"}}
        for i in range(6)]})  # more than max_batch=4: stored now, tagged by a job
    assert big.status_code == 202, big.text
    assert _wait_for_job(test_client, big.headers["Location"], admin)["done"] == 6

    read = _auth(keys["read"])
    trends = test_client.get("/v1/trends", headers=read, params={
        "survey_type": "unspecified", "themes": True, "min_n": 1}).json()
    assert [p["period"] for p in trends["periods"]] == ["2025-01", "2025-02", "2025-03"]
    assert "decomposition" in trends["themes"]
    adoption = test_client.get("/v1/adoption", headers=read, params={
        "survey_type": "unspecified", "feature": "api=uses_api", "by": "plan",
        "min_n": 1}).json()
    assert adoption["features"][0]["feature"] == "api"
    assert adoption["heatmap"]["segment"] == "plan"
    missing = test_client.get("/v1/adoption", headers=read, params={
        "survey_type": "unspecified", "feature": "api=nope"})
    assert missing.status_code == 422
    ranked = test_client.get("/v1/priorities", headers=read, params={
        "survey_type": "unspecified", "min_n": 1}).json()
    assert ranked["priorities"]
    assert [p["rank"] for p in ranked["priorities"]] == list(
        range(1, len(ranked["priorities"]) + 1))

    page = test_client.get("/v1/report", headers=read, params={
        "survey_type": "unspecified", "min_n": 1, "segment": "plan=pro"})
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    html = page.text
    quotes = re.findall(r"“(.*?)”", html)  # verbatims come from the stored statements
    assert "Love the dashboards" in quotes
    assert not any("Search never finds" in q for q in quotes)  # free plan: filtered out
    assert 'id="trend-chart"' in html
    assert 'id="impact-chart"' in html
    assert "where <strong>plan = pro</strong>" in html  # the filters are echoed
    assert test_client.get("/v1/report", headers=read, params={
        "survey_type": "nope"}).status_code == 404
    assert test_client.get("/v1/report").status_code == 401

    assert test_client.get("/metrics").status_code == 401
    metrics = test_client.get("/metrics", headers=read).text
    assert "themer_responses_ingested_total 10.0" in metrics
    assert 'themer_jobs{state="done"} 2.0' in metrics
    assert "http_request_duration_seconds" in metrics


def test_webhook_subscriptions(client: tuple[TestClient, dict[str, str]]) -> None:
    test_client, keys = client
    admin = _auth(keys["admin"])
    created = test_client.post("/v1/webhooks", headers=admin, json={
        "url": "http://127.0.0.1:9/hook", "theme": "search", "category": "detractor"})
    assert created.status_code == 201, created.text
    assert created.json()["secret"].startswith("whsec_")
    unknown = test_client.post("/v1/webhooks", headers=admin, json={
        "url": "http://127.0.0.1:9/hook", "theme": "serch"})
    assert unknown.status_code == 422
    assert test_client.post("/v1/webhooks", headers=_auth(keys["write"]), json={
        "url": "http://127.0.0.1:9/hook"}).status_code == 403
    assert test_client.post("/v1/webhooks", headers=admin, json={
        "url": "ftp://example.com/x"}).status_code == 422
    test_client.post("/v1/responses", headers=admin, json={"responses": SURVEY[:2]})
    log = test_client.get(f"/v1/webhooks/{created.json()['id']}/deliveries",
                          headers=admin).json()
    assert {d["response_id"] for d in log["deliveries"]} == {"a1", "a2"}


def test_discovery_job_decisions_and_promote(client: tuple[TestClient, dict[str, str]]) -> None:
    test_client, keys = client
    admin, read = _auth(keys["admin"]), _auth(keys["read"])
    topics = ["We need an offline mode for flights (trip {i}).",
              "The mascot on the login page is ugly (try {i}).",
              "Invoices show the wrong currency symbol (case {i})."]
    responses = [{"id": f"d{i}", "score": i % 11, "survey_type": "relationship",
                  "comments": {"reason": topics[i % 3].format(i=i)}} for i in range(45)]
    stored = test_client.post("/v1/responses", headers=admin, json={"responses": responses})
    assert stored.status_code == 202, stored.text
    _wait_for_job(test_client, stored.headers["Location"], admin)
    refused = test_client.post("/v1/discover", headers=read, json={"all": True})
    assert refused.status_code == 403  # starting a run needs write
    bad = test_client.post("/v1/discover", headers=admin, json={"min_cluster_size": 1})
    assert bad.status_code == 422
    started = test_client.post("/v1/discover", headers=admin,
                               json={"all": True, "min_cluster_size": 5})
    assert started.status_code == 202, started.text
    run = _wait_for_job(test_client, started.headers["Location"], read)
    assert {"outlier_rate", "unclustered_rate", "candidates"} <= set(run)
    assert len(run["candidates"]) >= 2
    first, second = run["candidates"][:2]
    assert {m["response_id"] for m in first["members"]} <= {f"d{i}" for i in range(45)}

    decide = f"/v1/discover/{run['id']}/decisions"
    assert test_client.post(decide, headers=admin, json={
        "action": "rename", "candidate": first["id"]}).status_code == 422  # needs a label
    assert test_client.post(decide, headers=admin, json={
        "action": "discard", "candidate": "cand-nope"}).status_code == 422
    assert test_client.post(decide, headers=read, json={
        "action": "discard", "candidate": first["id"]}).status_code == 403
    renamed = test_client.post(decide, headers=admin, json={
        "action": "rename", "candidate": first["id"], "label": "Named by an analyst"})
    assert renamed.status_code == 201, renamed.text
    promoted = test_client.post(decide, headers=admin, json={
        "action": "promote", "candidate": second["id"], "area": "discovered_theme",
        "owner": "growth"})
    assert promoted.status_code == 201, promoted.text
    assert promoted.json()["taxonomy_version"] == 2
    _wait_for_job(test_client, promoted.headers["Location"], admin)  # re-tag, then active
    versions = test_client.get("/v1/taxonomy", headers=read).json()["versions"]
    assert [v["active"] for v in versions] == [False, True]
    comments = test_client.get("/v1/themes/discovered_theme/comments", headers=read).json()
    assert comments["total"] > 0  # the promoted area now tags stored statements

    again = test_client.post("/v1/discover", headers=admin,
                             json={"all": True, "min_cluster_size": 5})
    rerun = _wait_for_job(test_client, again.headers["Location"], read)
    assert rerun["previous_run"] == run["id"]
    by_id = {c["id"]: c for c in rerun["candidates"]}
    assert by_id[first["id"]]["label"] == "Named by an analyst"  # same id, decision applied
    assert by_id[second["id"]]["status"] == "promoted"
    listed = test_client.get("/v1/discover/decisions", headers=read).json()["decisions"]
    assert [d["action"] for d in listed] == ["rename", "promote"]
    assert test_client.get("/v1/discover/nope", headers=read).status_code == 404
