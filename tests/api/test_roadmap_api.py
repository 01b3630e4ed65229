"""The roadmap through the API: saved apart from the taxonomy, used by the priorities."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from themer.config import Settings
from themer.store.repository import Store

ROOT = Path(__file__).resolve().parents[2]
SURVEY = [{"id": f"r{i}", "score": score, "comments": {"reason": text}}
          for i, (score, text) in enumerate([
              (2, "Search never finds anything."), (3, "The search is broken again."),
              (10, "Love the dashboards."), (4, "The app is so slow to load."),
              (9, "Support answered in minutes.")])]


@pytest.fixture
def client(tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, str]]]:
    url = f"sqlite:///{tmp_path / 'themer.db'}"
    (tmp_path / "models").mkdir()
    settings = Settings(database_url=url, cache_dir=tmp_path / "cache",
                        taxonomy=ROOT / "taxonomy.yaml", models_dir=tmp_path / "models")
    key = Store.open(url).create_key("admin")
    with TestClient(create_app(settings)) as test_client:
        yield test_client, {"X-API-Key": key}


def test_a_roadmap_edit_is_not_a_taxonomy_version(
        client: tuple[TestClient, dict[str, str]]) -> None:
    test_client, admin = client
    stored = test_client.post("/v1/responses", headers=admin, json={"responses": SURVEY})
    assert stored.status_code == 200, stored.text
    assert test_client.get("/v1/roadmap", headers=admin).json() == {"roadmap": {}}
    versions = test_client.get("/v1/taxonomy", headers=admin).json()["versions"]
    plan = {"effort": {"search": "S", "performance": "XL"}, "planned": ["performance"]}
    saved = test_client.put("/v1/roadmap", headers=admin, json={"roadmap": plan})
    assert saved.status_code == 200, saved.text
    assert saved.json()["roadmap"]["effort"] == plan["effort"]
    assert test_client.get("/v1/roadmap", headers=admin).json() == saved.json()
    assert test_client.get("/v1/taxonomy", headers=admin).json()["versions"] == versions
    time.sleep(0.6)  # the embedded worker polls every 0.5 s: a job would have been seen
    from themer.store.jobs import job_counts

    assert job_counts(test_client.app.state.engine.store) == {}
    ranked = test_client.get("/v1/priorities", headers=admin, params={"min_n": 1}).json()
    efforts = {p["theme"]: p["effort"] for p in ranked["priorities"]}
    assert efforts.get("search") == "S"


def test_a_roadmap_naming_unknown_themes_is_refused(
        client: tuple[TestClient, dict[str, str]]) -> None:
    test_client, admin = client
    refused = test_client.put("/v1/roadmap", headers=admin,
                              json={"roadmap": {"effort": {"teleportation": "S"}}})
    assert refused.status_code == 422
    assert refused.json()["code"] == "THM155"
    assert "teleportation" in refused.json()["detail"]
    bad = test_client.put("/v1/roadmap", headers=admin,
                          json={"roadmap": {"effort": {"search": "huge"}}})
    assert bad.status_code == 422
    assert bad.json()["code"] == "THM154"
