"""The labelling loop through the API (keys, bounds, bad labels), and the same numbers as the
CLI on the same store."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from labelling_store import ROOT, analyst, build_store
from typer.testing import CliRunner

from api.app import create_app
from themer.cli import app
from themer.config import Settings
from themer.nlp.embed import SentenceTransformerEncoder
from themer.nlp.split import StatementSplitter


@pytest.fixture
def served(tmp_path: Path, encoder: SentenceTransformerEncoder, splitter: StatementSplitter
           ) -> Iterator[dict[str, Any]]:
    url = f"sqlite:///{tmp_path / 'themer.db'}"
    cache, models = tmp_path / "cache", tmp_path / "models"
    store = build_store(url, cache, models, encoder, splitter)
    keys = {scope: store.create_key(scope, f"{scope} key")  # type: ignore[arg-type]
            for scope in ("read", "write")}
    settings = Settings(database_url=url, cache_dir=cache, models_dir=models,
                        taxonomy=ROOT / "taxonomy.yaml", worker="off")
    env = {"THEMER_DATABASE_URL": url, "THEMER_CACHE_DIR": str(cache),
           "THEMER_MODELS_DIR": str(models), "THEMER_TAXONOMY": str(ROOT / "taxonomy.yaml")}
    with TestClient(create_app(settings)) as client:
        yield {"client": client, "env": env,
               "read": {"X-API-Key": keys["read"]}, "write": {"X-API-Key": keys["write"]}}


def _cli(served: dict[str, Any], *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["--quiet", "label", *args, "--store", "--json", "-"],
                                env=served["env"])
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    payload.pop("themer_version")
    return payload


def test_the_page_is_self_contained(served: dict[str, Any]) -> None:
    page = served["client"].get("/label")
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page.text)  # no CDN, works offline
    assert "sessionStorage" in page.text
    assert "X-API-Key" in page.text


def test_keys_bounds_and_bad_labels(served: dict[str, Any]) -> None:
    client, read, write = served["client"], served["read"], served["write"]
    assert client.get("/v1/label/next").status_code == 401
    for k in (0, 101):
        refused = client.get("/v1/label/next", params={"k": k}, headers=read)
        assert refused.status_code == 422
        assert refused.json()["code"] == "THM601"
    batch = client.get("/v1/label/next", params={"k": 4}, headers=read).json()
    version = batch["taxonomy"]["taxonomy_version_id"]
    labels = [{"statement_id": item["statement_id"], "taxonomy_version_id": version,
               **analyst(item["text"])} for item in batch["items"]]
    assert client.post("/v1/labels", headers=read, json={"labels": labels}).status_code == 403
    bad = [*labels, {**labels[0], "statement_id": 10**9}]
    refused = client.post("/v1/labels", headers=write, json={"labels": bad})
    assert refused.status_code == 422
    assert refused.json()["code"] == "THM189"
    assert "item 5, column 'statement_id'" in refused.json()["detail"]
    wrong = client.post("/v1/labels", headers=write, json={"labels": [
        {**labels[0], "areas": ["teleportation"]}]})
    assert wrong.json()["code"] == "THM188"
    too_many = client.post("/v1/labels", headers=write, json={"labels": labels * 300})
    assert too_many.status_code == 422
    assert client.get("/v1/label/status", headers=read).json()["labels"] == 0  # nothing stored
    untrained = client.post("/v1/label/train", headers=write)
    assert untrained.status_code == 422
    assert untrained.json()["code"] == "THM193"


def test_a_round_through_the_api_gives_the_clis_numbers(served: dict[str, Any]) -> None:
    client, read, write = served["client"], served["read"], served["write"]
    batch = client.get("/v1/label/next", params={"k": 20}, headers=read).json()
    assert batch == _cli(served, "next", "--k", "20")  # same batch through both doors
    version = batch["taxonomy"]["taxonomy_version_id"]
    labels = [{"statement_id": item["statement_id"], "taxonomy_version_id": version,
               **analyst(item["text"])} for item in batch["items"]]
    saved = client.post("/v1/labels", headers=write, json={"labels": labels, "by": "ann"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["labels"] == 20
    trained = client.post("/v1/label/train", headers=write)
    assert trained.status_code == 200, trained.text
    done = trained.json()
    assert done["changed_statements"] > 0
    assert done["embedded"] == 0
    assert set(done["sources"].values()) == {f"head:{h['folder']}"
                                             for h in done["heads"].values()}
    shown = client.get("/v1/label/status", headers=read).json()
    assert shown == _cli(served, "status")
    assert shown["heads"]["area"]["accuracy"]["n_labels"] == 20
    # the API's tagger now uses the new heads: its next batch is the CLI's (fresh process)
    after = client.get("/v1/label/next", params={"k": 5}, headers=read).json()
    assert after["sources"] == done["sources"]
    assert after == _cli(served, "next", "--k", "5")
    again = _cli(served, "train")  # the same labels: the same heads and accuracy, no change
    assert again["heads"] == done["heads"]
    assert again["changed_statements"] == 0
