"""Settings: where the static encoder lives, and whether a taxonomy path was asked for."""

from __future__ import annotations

from pathlib import Path

import pytest

from themer.config import Settings


@pytest.fixture(autouse=True)
def _no_themer_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("THEMER_STATIC_MODEL", "THEMER_MODEL", "THEMER_TAXONOMY", "THEMER_CACHE_DIR"):
        monkeypatch.delenv(name, raising=False)


def test_static_model_defaults_to_the_cache(tmp_path: Path,
                                            monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings(cache_dir=tmp_path)
    assert settings.static_model is None
    assert settings.static_model_is_default()
    assert settings.static_model_dir() == tmp_path / "static-minilm"
    # another source model gets its own folder, never MiniLM's
    assert Settings(cache_dir=tmp_path, model="/models/my-st-model/").static_model_dir() == (
        tmp_path / "static-my-st-model")
    monkeypatch.setenv("THEMER_STATIC_MODEL", "")  # blank = unset
    assert Settings(cache_dir=tmp_path).static_model_is_default()
    monkeypatch.setenv("THEMER_STATIC_MODEL", str(tmp_path / "mine"))
    named = Settings(cache_dir=tmp_path)
    assert not named.static_model_is_default()
    assert named.static_model_dir() == tmp_path / "mine"


def test_explicit_taxonomy_only_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().explicit_taxonomy() is None
    assert Settings().taxonomy == Path("taxonomy.yaml")  # the default to look for
    assert Settings(taxonomy=Path("t.yaml")).explicit_taxonomy() == Path("t.yaml")
    monkeypatch.setenv("THEMER_TAXONOMY", "taxonomy.yaml")  # named, even if the default name
    assert Settings().explicit_taxonomy() == Path("taxonomy.yaml")
