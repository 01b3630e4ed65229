"""The labelling page in a real headless Chromium (playwright driving the system chromium): an
analyst labels 20 statements with the keyboard, re-trains, and sees the accuracy and the tags
change; nothing is fetched from anywhere but the server; a screenshot is kept."""

from __future__ import annotations

import os
import re
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from labelling_store import ROOT, analyst, build_store

from themer.config import Settings
from themer.nlp.embed import SentenceTransformerEncoder
from themer.nlp.split import StatementSplitter

AREA_KEYS = "1234567890qweruiopzxcv"
TYPE_KEYS = "adfghjkl"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tmp_path: Path, encoder: SentenceTransformerEncoder, splitter: StatementSplitter
           ) -> Iterator[dict[str, Any]]:
    import uvicorn

    from api.app import create_app

    url = f"sqlite:///{tmp_path / 'themer.db'}"
    store = build_store(url, tmp_path / "cache", tmp_path / "models", encoder, splitter)
    key = store.create_key("write", "analyst")
    settings = Settings(database_url=url, cache_dir=tmp_path / "cache",
                        models_dir=tmp_path / "models", taxonomy=ROOT / "taxonomy.yaml",
                        worker="off")
    port = _free_port()
    uv = uvicorn.Server(uvicorn.Config(create_app(settings), host="127.0.0.1", port=port,
                                       log_level="warning"))
    thread = threading.Thread(target=uv.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(0.1)
    yield {"base": base, "key": key, "store": store}
    uv.should_exit = True
    thread.join(timeout=30)


def _label_one(page: Any, n: int) -> str:
    """Label the statement on screen with the keys an analyst would press; its id."""
    shown = page.text_content("#statement") or ""
    wanted = analyst(shown)
    areas = page.eval_on_selector_all(
        "#areas label", "els => els.map(e => [e.dataset.id, e.querySelector('input').checked])")
    types = page.eval_on_selector_all("#types label", "els => els.map(e => e.dataset.id)")
    where = page.text_content("#where") or ""
    if not wanted["areas"]:
        page.keyboard.press("n")  # none of these
    for i, (area, ticked) in enumerate(areas[:len(AREA_KEYS)]):
        if (area in wanted["areas"]) != ticked:
            page.keyboard.press(AREA_KEYS[i])
    page.keyboard.press(TYPE_KEYS[types.index(wanted["type"])])
    if n == 3:  # one new theme, typed after its shortcut
        page.keyboard.press("m")
        page.keyboard.type("Offline mode")
    page.keyboard.press("Enter")
    return where


def test_an_analyst_labels_20_statements_and_retrains(server: dict[str, Any], chromium: str,
                                                       tmp_path: Path) -> None:
    from playwright.sync_api import expect, sync_playwright

    problems: list[str] = []
    elsewhere: list[str] = []
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=chromium, headless=True,
                                         args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: None if r.url.startswith(server["base"])
                else elsewhere.append(r.url))
        page.goto(f"{server['base']}/label")
        page.fill("#key", server["key"])
        page.click("#use-key")
        page.wait_for_selector("#statement", timeout=120_000)
        assert page.text_content("#acc-area") == "zero-shot"
        seen = set()
        for n in range(20):
            # (no wait_for_function: the page's CSP forbids the eval it needs, and stays on)
            expect(page.locator("#progress")).to_have_text(re.compile(rf"^{n + 1} of"),
                                                           timeout=60_000)
            seen.add(_label_one(page, n))
        expect(page.locator("#labels")).to_have_text("20", timeout=60_000)
        page.wait_for_selector("#statement", timeout=120_000)  # the next batch is loaded
        page.keyboard.press("t")
        expect(page.locator("#changed")).to_contain_text(" of ", timeout=600_000)
        expect(page.locator("#message")).to_contain_text("Re-trained on 20 labels")
        changed = page.text_content("#changed") or ""
        accuracy = page.text_content("#acc-area") or ""
        artefacts = Path(os.environ.get("THEMER_ARTIFACT_DIR") or tmp_path)
        artefacts.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(artefacts / "label-page.png"), full_page=True)
        browser.close()
    assert problems == []
    assert elsewhere == []  # nothing fetched from outside the server
    assert len(seen) == 20
    assert "20 labels" in accuracy  # the area head's cross-validated macro-F1 on 20 labels
    assert int(changed.split(" of ")[0]) > 0  # tags changed in the store
    status = httpx.get(f"{server['base']}/v1/label/status",
                       headers={"X-API-Key": server["key"]}, timeout=30).json()
    assert status["labels"] == 20
    assert status["new_themes"] == {"Offline mode": 1}
    assert status["heads"]["area"]["labels_then"] == 20
