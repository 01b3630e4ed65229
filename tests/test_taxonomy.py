from __future__ import annotations

from pathlib import Path

import pytest

from themer.errors import TaxonomyError
from themer.taxonomy import (
    REQUIRED_TYPES,
    STARTER_TAXONOMY,
    TaxonomyInfo,
    load_taxonomy,
    parse_taxonomy,
    resolve_taxonomy,
    starter_taxonomy,
)


def test_default_taxonomy_is_complete(taxonomy: TaxonomyInfo) -> None:
    tax = taxonomy.taxonomy
    assert len(tax.areas) >= 15
    assert tax.label_ids("type") == list(REQUIRED_TYPES)
    for label in tax.areas + tax.types:
        assert len(label.description) > 20, label.id
    for label in tax.types:
        assert 5 <= len(label.examples) <= 15, label.id
    for area in tax.areas:
        assert area.owner, area.id
    assert len(taxonomy.content_hash) == 64


GOOD = """version: 1
areas:
  - id: search
    description: Finding things.
    examples: [search is slow]
types:
  - id: bug
    description: Broken things.
"""


def test_hash_changes_with_content() -> None:
    a = parse_taxonomy(GOOD)
    b = parse_taxonomy(GOOD.replace("Finding things.", "Finding stuff."))
    assert a.content_hash != b.content_hash


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        (GOOD.replace("id: search", "id: Search Area"), "line 3, key 'areas.0.id'"),
        (GOOD.replace("    description: Finding things.\n", ""), "key 'areas.0.description'"),
        (GOOD.replace("version: 1", "version: zero"), "line 1, key 'version'"),
        (GOOD + "  - id: bug\n    description: Again broken.\n", "duplicate id 'bug'"),
        (GOOD.replace("slow]", "slow"), "not valid YAML"),
        (GOOD.replace("examples: [search is slow]", "examples: [1]"),
         "line 5, key 'areas.0.examples.0'"),
        ("- just a list", "expected a mapping"),
    ],
)
def test_malformed_taxonomy_names_key_and_line(text: str, needle: str) -> None:
    with pytest.raises(TaxonomyError) as info:
        parse_taxonomy(text, source="t.yaml")
    assert needle in str(info.value)
    assert str(info.value).startswith("[THM2")


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(TaxonomyError, match="not found"):
        load_taxonomy(tmp_path / "nope.yaml")


def test_starter_taxonomy_is_generic_and_complete() -> None:
    info = starter_taxonomy()
    tax = info.taxonomy
    assert tax.label_ids("type") == list(REQUIRED_TYPES)
    assert {"onboarding", "performance", "reliability", "search", "reporting", "billing",
            "pricing", "integrations", "mobile", "support", "ui_navigation", "permissions",
            "security", "notifications"} <= set(tax.label_ids("area"))
    for label in tax.areas + tax.types:
        assert len(label.description) > 20, label.id
        assert 5 <= len(label.examples) <= 15, label.id
    text = STARTER_TAXONOMY.read_text(encoding="utf-8")
    assert info.content_hash == parse_taxonomy(text).content_hash
    # its own words: no seed phrase copied from the example's taxonomy (tuned to its data)
    example = load_taxonomy(Path(__file__).resolve().parents[1] / "taxonomy.yaml").taxonomy
    seeds = {e for label in example.areas for e in label.examples}
    assert not seeds & {e for label in tax.areas for e in label.examples}


def test_resolve_taxonomy_prefers_named_then_default_then_starter(tmp_path: Path) -> None:
    default = tmp_path / "taxonomy.yaml"
    info, note = resolve_taxonomy(None, default)  # nothing here: the starter, said so
    assert info.source == starter_taxonomy().source
    assert note is not None
    assert str(default) in note
    assert "starter taxonomy" in note
    assert "--" not in note  # library words: no CLI flag
    default.write_text(GOOD, encoding="utf-8")
    info, note = resolve_taxonomy(None, default)
    assert (info.source, note) == (str(default), None)
    named = tmp_path / "other.yaml"
    named.write_text(GOOD.replace("version: 1", "version: 2"), encoding="utf-8")
    info, note = resolve_taxonomy(named, default)
    assert (info.version, note) == (2, None)
    with pytest.raises(TaxonomyError, match="not found") as caught:  # a named file must exist
        resolve_taxonomy(tmp_path / "missing.yaml", default)
    assert caught.value.code == "THM204"
