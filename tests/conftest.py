"""Shared fixtures. The real model is loaded once per session; nothing touches the network."""

from __future__ import annotations

import os
import shutil

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

from pathlib import Path

import pandas as pd
import pytest

from themer.nlp.embed import SentenceTransformerEncoder
from themer.nlp.split import StatementSplitter
from themer.taxonomy import TaxonomyInfo, load_taxonomy

ROOT = Path(__file__).resolve().parent.parent

SURVEY_ROWS = [
    ("r1", 10, "Love the dashboards, but exporting reports to Excel is painfully slow.",
     "relationship"),
    ("r2", 2, "The app crashes every time I upload a file. Support never answers.", "relationship"),
    ("r3", 8, "Please add a Salesforce integration.", "relationship"),
    ("r4", 6, "Too expensive for a small team.", "relationship"),
    ("r5", 9, "", "relationship"),
    ("r6", 0, "Sync with Jira is broken again and we lost data!", "relationship"),
    ("r7", 7, "ok", "relationship"),
    ("r8", 9, "Onboarding was smooth and the getting started guide was great.", "relationship"),
    ("r9", 4, "Search never finds anything. The mobile app is useless on Android.", "relationship"),
    ("r10", 10, "Support solved my issue in minutes", "transactional"),
    ("r11", 3, "It took a week to get a reply from support.", "transactional"),
    ("r12", 5, "I expected reporting to be included in our plan, it is an add-on.", "relationship"),
]


@pytest.fixture(scope="session")
def encoder() -> SentenceTransformerEncoder:
    return SentenceTransformerEncoder()


@pytest.fixture(scope="session")
def splitter() -> StatementSplitter:
    return StatementSplitter()


@pytest.fixture(scope="session")
def taxonomy() -> TaxonomyInfo:
    return load_taxonomy(ROOT / "taxonomy.yaml")


@pytest.fixture
def survey_csv(tmp_path: Path) -> Path:
    frame = pd.DataFrame(SURVEY_ROWS, columns=["response_id", "score", "comment", "survey_type"])
    frame["plan"] = ["pro", "free", "pro", "free", "business", "pro", "pro", "business", "free",
                     "pro", "free", "pro"]
    path = tmp_path / "survey.csv"
    frame.to_csv(path, index=False)
    return path


def _postgres_url() -> str | None:
    url = os.environ.get("THEMER_TEST_PG")
    if not url and os.environ.get("CI") == "true":
        raise RuntimeError("CI must run the PostgreSQL store tests: THEMER_TEST_PG is unset "
                           "(.ci/test starts a server and sets it)")
    return url


def _fresh_postgres(url: str) -> str:
    """An empty public schema, so every test migrates from nothing."""
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store test runs on SQLite and on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'themer.db'}"
    url = _postgres_url()
    if url is None:
        pytest.skip("THEMER_TEST_PG unset (local run without PostgreSQL; never skipped in CI)")
    return _fresh_postgres(url)


@pytest.fixture(scope="session")
def chromium() -> str:
    """The headless Chromium for the browser tests: skipped locally without one, never in CI."""
    found = os.environ.get("THEMER_CHROMIUM") or shutil.which("chromium")
    if found:
        return found
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI must run the browser tests: no chromium (see .ci/chromium.sh)")
    pytest.skip("no chromium (local run; never skipped in CI)")
