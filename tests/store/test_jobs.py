"""Re-tag jobs on both stores: audit, exclusive claims, and resuming after kill -9 of a worker."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from themer.nlp.embed import SentenceTransformerEncoder
from themer.nlp.split import StatementSplitter
from themer.nlp.tagger import Tagger
from themer.store.jobs import _next_size, claim_job, create_retag_job, get_job, run_worker
from themer.store.models import Job, StatementRow, TagRow, TaxonomyVersion
from themer.store.pipeline import tag_stored
from themer.store.repository import ResponseIn, Store
from themer.taxonomy import parse_taxonomy

ROOT = Path(__file__).resolve().parents[2]
TEXTS = ["Search never finds anything.", "The invoices are wrong and pricing is too high.",
         "Love the dashboards.", "The mobile app crashes on upload.",
         "Support answered in minutes.", "Please add a Salesforce integration.",
         "Onboarding took weeks.", "Reports load very slowly, but billing is simple."]
V1 = (ROOT / "taxonomy.yaml").read_text(encoding="utf-8")


def _without_billing(text: str) -> str:
    """Version 2: the billing area removed (its statements must lose that tag)."""
    start = text.index("  - id: billing")
    end = text.index("  - id: mobile")
    return text[:start].replace("version: 1", "version: 2") + text[end:]


def _tagger_for(encoder: SentenceTransformerEncoder, splitter: StatementSplitter):  # type: ignore[no-untyped-def]
    def build(version: TaxonomyVersion) -> Tagger:
        return Tagger.build(parse_taxonomy(version.yaml), encoder, splitter)

    return build


def _tag_count(store: Store, version_id: int) -> int:
    with store.sessions() as session:
        return int(session.scalar(select(func.count(TagRow.id))
                                  .where(TagRow.taxonomy_version_id == version_id)) or 0)


def test_retag_job_audits_and_activates(store_url: str, encoder: SentenceTransformerEncoder,
                                        splitter: StatementSplitter) -> None:
    store = Store.open(store_url)
    v1 = store.activate_taxonomy(parse_taxonomy(V1), V1)
    results = store.ingest([ResponseIn(id=f"r{i}", score=i % 11,
                                       comments={"reason": TEXTS[i % len(TEXTS)]})
                            for i in range(24)])
    tagger_for = _tagger_for(encoder, splitter)
    tag_stored(store, tagger_for(v1), v1.id, [r.id for r in results])
    v2_text = _without_billing(V1)
    v2 = store.add_taxonomy(parse_taxonomy(v2_text), v2_text, activate=False)
    job = create_retag_job(store, v2.id, v1.id)
    assert job.total == 24
    assert run_worker(store, tagger_for, once=True, chunk_size=5) == 1
    finished = get_job(store, job.id)
    assert finished is not None
    assert (finished.state, finished.done, finished.cursor) == ("done", 24, results[-1].id)
    assert finished.counts["removed"].get("area:billing", 0) >= 3  # billing texts lost it
    assert "area:billing" not in finished.counts["added"]
    active = store.active_taxonomy()
    assert active is not None
    assert active.id == v2.id
    reference = tagger_for(v2)
    frame = store.responses_for_tagging([r.id for r in results])
    assert _tag_count(store, v2.id) == len(reference.tag_statements(reference.split(frame)))


class _CountingSplitter:
    """The real splitter, recording every comment it is asked to split."""

    def __init__(self, splitter: StatementSplitter) -> None:
        self.splitter = splitter
        self.seen: list[str] = []

    def split_many(self, texts: list[str]):  # type: ignore[no-untyped-def]
        self.seen += list(texts)
        return self.splitter.split_many(texts)


def _labels(store: Store, version_id: int) -> list[tuple[int, str, int, str, str]]:
    with store.sessions() as session:
        rows = session.execute(
            select(StatementRow.response_id, StatementRow.question, StatementRow.start,
                   TagRow.kind, TagRow.label)
            .join(TagRow, TagRow.statement_id == StatementRow.id)
            .where(TagRow.taxonomy_version_id == version_id)).all()
    return sorted((int(r), str(q), int(s), str(k), str(label)) for r, q, s, k, label in rows)


def test_retag_reads_stored_statements_and_splits_only_new_responses(
        store_url: str, encoder: SentenceTransformerEncoder, splitter: StatementSplitter) -> None:
    store = Store.open(store_url)
    v1 = store.activate_taxonomy(parse_taxonomy(V1), V1)
    tagged = store.ingest([ResponseIn(id=f"r{i}", score=i % 11,
                                      comments={"reason": TEXTS[i % len(TEXTS)]})
                           for i in range(12)])
    tag_stored(store, _tagger_for(encoder, splitter)(v1), v1.id, [r.id for r in tagged])
    untagged = store.ingest([ResponseIn(id="late", score=3,
                                        comments={"reason": "Exports time out. Fix them."})])
    with store.sessions() as session:
        statements_before = int(session.scalar(select(func.count(StatementRow.id))) or 0)
    counting = _CountingSplitter(splitter)
    v2_text = _without_billing(V1)
    v2 = store.add_taxonomy(parse_taxonomy(v2_text), v2_text, activate=False)
    job = create_retag_job(store, v2.id, v1.id)
    assert run_worker(store, _tagger_for(encoder, counting), once=True, chunk_size=4) == 1
    finished = get_job(store, job.id)
    assert finished is not None
    assert finished.state == "done", finished.error
    # only the response never split before went through the splitter
    assert counting.seen == ["Exports time out. Fix them."]
    with store.sessions() as session:
        statements_after = int(session.scalar(select(func.count(StatementRow.id))) or 0)
    assert statements_after == statements_before + 2  # the late response's two statements
    # the tags equal a fresh split-and-tag of every response with version 2
    reference = _tagger_for(encoder, splitter)(v2)
    frame = store.responses_for_tagging([r.id for r in [*tagged, *untagged]])
    expected = reference.tag_statements(reference.split(frame))
    want = sorted((int(r.response_id), str(r.question), int(r.start), str(r.kind),
                   str(r.label)) for r in expected.itertuples())
    assert _labels(store, v2.id) == want
    assert any(label == "billing" for *_, label in _labels(store, v1.id))
    assert not any(label == "billing" for *_, label in want)


@pytest.mark.parametrize(("size", "seconds", "expected"), [
    (500, 0.2, 1_000), (16_000, 0.2, 16_000), (4_000, 9.0, 2_000), (500, 9.0, 500),
    (2_000, 3.0, 2_000)])
def test_chunks_grow_while_quick_and_shrink_when_slow(size: int, seconds: float,
                                                      expected: int) -> None:
    assert _next_size(size, 500, seconds) == expected


def test_claims_are_exclusive_and_stale_jobs_are_taken_over(store_url: str) -> None:
    store = Store.open(store_url)
    version = store.activate_taxonomy(parse_taxonomy(V1), V1)
    job = create_retag_job(store, version.id, None)
    first = claim_job(store, "w1")
    assert first is not None
    assert (first.id, first.worker, first.attempts) == (job.id, "w1", 1)
    assert claim_job(store, "w2") is None  # running and heartbeating: nobody else takes it
    with store.sessions.begin() as session:
        session.execute(update(Job).values(heartbeat_at=datetime.now(UTC) - timedelta(hours=1)))
    second = claim_job(store, "w2", stale_after=30)
    assert second is not None
    assert (second.worker, second.attempts, second.state) == ("w2", 2, "running")


def test_a_killed_worker_is_resumed_without_loss_or_duplicates(
        store_url: str, tmp_path: Path, encoder: SentenceTransformerEncoder,
        splitter: StatementSplitter) -> None:
    store = Store.open(store_url)
    version = store.activate_taxonomy(parse_taxonomy(V1), V1)
    results = store.ingest([ResponseIn(id=f"r{i}", score=i % 11,
                                       comments={"reason": f"{TEXTS[i % len(TEXTS)]}"})
                            for i in range(1_200)])
    job = create_retag_job(store, version.id, None)
    env = {**os.environ, "THEMER_DATABASE_URL": store_url, "THEMER_JOB_CHUNK": "20",
           "THEMER_CACHE_DIR": str(tmp_path / "cache"), "HF_HUB_OFFLINE": "1",
           "THEMER_MODELS_DIR": str(tmp_path)}
    worker = subprocess.Popen([sys.executable, "-m", "themer", "worker", "--once"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    try:
        while True:
            current = get_job(store, job.id)
            assert current is not None
            if 0 < current.done < current.total:
                break
            assert current.state != "done", "the worker finished before it could be killed"
            assert worker.poll() is None, "the worker exited early"
            assert time.monotonic() < deadline, "the worker never made progress"
            time.sleep(0.02)
    finally:
        worker.send_signal(signal.SIGKILL)  # kill -9 in the middle of the job
        worker.wait(30)
    stalled = get_job(store, job.id)
    assert stalled is not None
    assert stalled.state == "running"
    assert 0 < stalled.done < 1_200
    run_worker(store, _tagger_for(encoder, splitter), once=True, stale_after=0, chunk_size=100)
    finished = get_job(store, job.id)
    assert finished is not None
    assert (finished.state, finished.done, finished.attempts) == ("done", 1_200, 2)
    reference = _tagger_for(encoder, splitter)(version)
    frame = store.responses_for_tagging([r.id for r in results])
    expected = len(reference.tag_statements(reference.split(frame)))
    assert _tag_count(store, version.id) == expected  # none lost, none doubled


@pytest.mark.parametrize("scope", ["write", "read"])
def test_only_admin_keys_change_the_taxonomy(scope: str, tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from themer.config import Settings

    url = f"sqlite:///{tmp_path / 'api.db'}"
    key = Store.open(url).create_key(scope)  # type: ignore[arg-type]
    settings = Settings(database_url=url, cache_dir=tmp_path / "cache",
                        taxonomy=ROOT / "taxonomy.yaml", models_dir=tmp_path, worker="off")
    with TestClient(create_app(settings)) as client:
        answer = client.put("/v1/taxonomy", headers={"X-API-Key": key},
                            json={"yaml": _without_billing(V1)})
        assert answer.status_code == 403


def test_put_taxonomy_starts_a_retag_job(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from themer.config import Settings

    url = f"sqlite:///{tmp_path / 'api.db'}"
    store = Store.open(url)
    admin = store.create_key("admin")
    settings = Settings(database_url=url, cache_dir=tmp_path / "cache",
                        taxonomy=ROOT / "taxonomy.yaml", models_dir=tmp_path, job_chunk=3)
    with TestClient(create_app(settings)) as client:
        headers = {"X-API-Key": admin}
        ingest = client.post("/v1/responses", headers=headers, json={"responses": [
            {"id": f"r{i}", "score": 3, "comments": {"reason": TEXTS[i]}} for i in range(8)]})
        assert ingest.status_code == 200, ingest.text
        bad = client.put("/v1/taxonomy", headers=headers, json={"yaml": "version: 2\nareas: 7\n"})
        assert bad.status_code == 422
        same = client.put("/v1/taxonomy", headers=headers, json={"yaml": V1})
        assert same.json()["code"] == "THM626"
        started = client.put("/v1/taxonomy", headers=headers,
                             json={"yaml": _without_billing(V1), "author": "ana"})
        assert started.status_code == 202, started.text
        location = started.headers["Location"]
        deadline = time.monotonic() + 120
        while (state := client.get(location, headers=headers).json())["state"] != "done":
            assert state["state"] in ("queued", "running"), state
            assert time.monotonic() < deadline
            time.sleep(0.2)
        assert state["done"] == state["total"] == 8
        versions = client.get("/v1/taxonomy", headers=headers).json()["versions"]
        assert [(v["version"], v["active"], v["author"]) for v in versions] == [
            (1, False, "themer serve"), (2, True, "ana")]
        themes = client.get("/v1/themes", headers=headers, params={"min_n": 1}).json()
        assert "billing" not in {t["theme"] for t in themes["themes"]}
        assert client.get("/v1/jobs/nope", headers=headers).status_code == 404


def test_cancel_through_the_api(tmp_path: Path) -> None:
    from fastapi.testclient import TestClient

    from api.app import create_app
    from themer.config import Settings

    url = f"sqlite:///{tmp_path / 'api.db'}"
    store = Store.open(url)
    admin, read = store.create_key("admin"), store.create_key("read")
    settings = Settings(database_url=url, cache_dir=tmp_path / "cache",
                        taxonomy=ROOT / "taxonomy.yaml", models_dir=tmp_path, worker="off")
    with TestClient(create_app(settings)) as client:
        started = client.put("/v1/taxonomy", headers={"X-API-Key": admin},
                             json={"yaml": _without_billing(V1)})
        job_id = started.json()["job"]["id"]
        assert client.post(f"/v1/jobs/{job_id}/cancel",
                           headers={"X-API-Key": read}).status_code == 403
        cancelled = client.post(f"/v1/jobs/{job_id}/cancel", headers={"X-API-Key": admin})
        assert cancelled.json()["state"] == "cancelled"
        assert client.get(f"/v1/jobs/{job_id}",
                          headers={"X-API-Key": read}).json()["state"] == "cancelled"
