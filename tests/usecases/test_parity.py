"""Both doors, one set of numbers: every analysis through the CLI (``--store --json -``) and
through the API on the same stored responses gives the same JSON."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from api.app import create_app
from themer.cli import app
from themer.config import Settings
from themer.store.repository import Store

ROOT = Path(__file__).resolve().parents[2]
ROWS = 240  # enough respondents for segments and trends to say something, quick to tag


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """A SQLite store holding the first relationship responses of the example, imported and
    tagged by `themer import`, and a key to read them through the API."""
    folder = tmp_path_factory.mktemp("parity")
    survey = pd.read_csv(ROOT / "examples" / "nps_survey.csv", dtype=str)
    export = folder / "export.csv"
    survey[survey["survey_type"] == "relationship"].head(ROWS).to_csv(export, index=False)
    env = {"THEMER_DATABASE_URL": f"sqlite:///{folder / 'themer.db'}",
           "THEMER_CACHE_DIR": str(folder / "cache"), "THEMER_MODELS_DIR": str(folder),
           "THEMER_TAXONOMY": str(ROOT / "taxonomy.yaml"),
           "THEMER_DECISIONS_FILE": str(folder / "decisions.jsonl")}
    imported = CliRunner().invoke(app, ["import", str(export), "--segment", "plan=plan",
                                        "--segment", "role=role", "--segment",
                                        "uses_api=uses_integrations", "--segment",
                                        "logins=weekly_logins", "--segment",
                                        "signup=signup_date"], env=env)
    assert imported.exit_code == 0, imported.output
    settings = Settings(database_url=env["THEMER_DATABASE_URL"], cache_dir=folder / "cache",
                        taxonomy=ROOT / "taxonomy.yaml", models_dir=folder, worker="off")
    key = Store.open(settings.store_url()).create_key("admin")
    with TestClient(create_app(settings)) as client:
        yield {"env": env, "client": client, "headers": {"X-API-Key": key}}


def _cli(stored: dict[str, Any], *args: str) -> dict[str, Any]:
    result = CliRunner().invoke(app, ["--quiet", *args, "--store", "--json", "-"],
                                env=stored["env"])
    assert result.exit_code == 0, result.output
    payload: dict[str, Any] = json.loads(result.stdout)
    payload.pop("themer_version")
    return payload


def _api(stored: dict[str, Any], path: str, params: dict[str, Any]) -> dict[str, Any]:
    answer = stored["client"].get(path, params=params, headers=stored["headers"])
    assert answer.status_code == 200, answer.text
    payload: dict[str, Any] = answer.json()
    return payload


CASES = [  # (CLI arguments, API path, API parameters)
    (["segments", "--min-n", "5"], "/v1/segments", {"min_n": 5}),
    (["segments", "--usage-col", "logins", "--cohort-col", "signup", "--drivers", "--min-n",
      "5"], "/v1/segments", {"usage": "logins", "cohort": "signup", "drivers": True,
                             "min_n": 5}),
    (["segments", "--where", "plan=pro", "--since", "2025-07-01"], "/v1/segments",
     {"segment": "plan=pro", "date_from": "2025-07-01"}),
    (["adoption", "--feature", "api=uses_api", "--by", "plan", "--min-n", "5"],
     "/v1/adoption", {"feature": "api=uses_api", "by": "plan", "min_n": 5}),
    (["behaviour", "--measure", "logins", "--feature", "api=uses_api"], "/v1/behaviour",
     {"measure": "logins", "feature": "api=uses_api"}),
    (["trends", "--period", "quarter", "--themes", "--min-n", "5"], "/v1/trends",
     {"period": "quarter", "themes": True, "min_n": 5}),
    (["pmf", "--cohort-col", "signup"], "/v1/pmf", {"cohort": "signup"}),
    (["impact", "--kind", "type"], "/v1/impact", {"kind": "type"}),
    (["priorities", "--edge-share", "0.02"], "/v1/priorities", {"edge_share": 0.02}),
    (["validate", "--launch", "2025-09-01", "--where", "plan=pro"], "/v1/validate",
     {"launch": "2025-09-01", "segment": "plan=pro"}),
]


@pytest.mark.parametrize(("args", "path", "params"), CASES,
                         ids=[" ".join(c[0][:3]) for c in CASES])
def test_cli_and_api_agree(stored: dict[str, Any], args: list[str], path: str,
                           params: dict[str, Any]) -> None:
    from_cli, from_api = _cli(stored, *args), _api(stored, path, params)
    assert from_cli == from_api
    assert from_cli["survey_type"] == "relationship"


def test_theme_table_agrees(stored: dict[str, Any]) -> None:
    from_cli = _cli(stored, "themes", "--min-n", "5")
    from_api = _api(stored, "/v1/themes", {"min_n": 5, "limit": 1000})
    for paging in ("total", "limit", "offset", "taxonomy_version"):
        from_api.pop(paging)
    assert from_cli == from_api
    assert len(from_cli["themes"]) > 10


def test_report_agrees(stored: dict[str, Any], tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    result = CliRunner().invoke(app, ["--quiet", "report", "--store", "-o", str(out)],
                                env=stored["env"])
    assert result.exit_code == 0, result.output
    page = stored["client"].get("/v1/report", headers=stored["headers"])
    assert page.status_code == 200

    def stamped(html: str) -> str:  # the generation time is the only difference allowed
        return re.sub(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC", "<time>", html)

    assert stamped(out.read_text(encoding="utf-8")) == stamped(page.text)


def test_discovery_agrees(stored: dict[str, Any]) -> None:
    from_cli = _cli(stored, "discover", "--all", "--min-cluster-size", "5")
    started = stored["client"].post("/v1/discover", headers=stored["headers"],
                                    json={"all": True, "min_cluster_size": 5})
    assert started.status_code == 202, started.text
    from themer.runtime.encoders import store_tagger_for
    from themer.store.jobs import run_worker

    settings = Settings(database_url=stored["env"]["THEMER_DATABASE_URL"],
                        cache_dir=Path(stored["env"]["THEMER_CACHE_DIR"]),
                        models_dir=Path(stored["env"]["THEMER_MODELS_DIR"]))
    run_worker(Store.open(settings.store_url()), store_tagger_for(settings), once=True)
    deadline = time.monotonic() + 120
    while (run := _api(stored, f"/v1/discover/{started.json()['id']}", {}))["state"] != "done":
        assert time.monotonic() < deadline, run
        time.sleep(0.5)
    assert [c["label"] for c in from_cli["candidates"]] == [
        c["label"] for c in run["candidates"]]
    assert [c["size"] for c in from_cli["candidates"]] == [c["size"] for c in run["candidates"]]
    assert from_cli["candidates"], "nothing to compare"


def test_stored_tags_are_the_ones_analyses_attach_later(stored: dict[str, Any]) -> None:
    """An analysis that needs tags only on the way (drivers, fix checks) gets the stored ones,
    not a tagging of stored responses (which keep no comment text)."""
    from themer.usecases.context import Context
    from themer.usecases.inputs import Inputs, attach_tags, load_dataset

    env = stored["env"]
    ctx = Context(Settings(database_url=env["THEMER_DATABASE_URL"],
                           cache_dir=Path(env["THEMER_CACHE_DIR"])))
    with_tags = load_dataset(ctx, Inputs(), tags=True)
    later = load_dataset(ctx, Inputs())
    assert later.tags is None
    attach_tags(ctx, Inputs(), later)
    assert with_tags.tags is not None
    assert later.tags is not None
    assert len(later.tags) > ROWS  # several statements per response, two kinds each
    pd.testing.assert_frame_equal(later.tags, with_tags.tags)


def test_a_tag_file_cannot_replace_the_stored_tags(stored: dict[str, Any],
                                                   tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["themes", "--store", "--tags", str(tmp_path / "t.csv")],
                                env=stored["env"])
    assert result.exit_code == 2
    assert "THM187" in result.output
