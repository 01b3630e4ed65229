"""The files `themer init` writes: each loads with the loader that reads it, none is clobbered."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from themer.analytics.priorities import Roadmap, load_roadmap
from themer.errors import InputFileError
from themer.ingest import ColumnMapping, load_mapping
from themer.starter import STARTER_FILES, write_starter_files
from themer.taxonomy import load_taxonomy, starter_taxonomy


def test_written_files_load_with_the_real_loaders(tmp_path: Path) -> None:
    written = write_starter_files(tmp_path / "project")
    assert [p.name for p in written] == ["taxonomy.yaml", "mapping.yaml", "roadmap.yaml"]
    taxonomy = load_taxonomy(tmp_path / "project" / "taxonomy.yaml")
    # the same content hash as no file at all: same tags, same store version
    assert taxonomy.content_hash == starter_taxonomy().content_hash
    mapping = load_mapping(tmp_path / "project" / "mapping.yaml")
    assert mapping == ColumnMapping(id="response_id", score="score", text=["comment"])
    assert load_roadmap(tmp_path / "project" / "roadmap.yaml", taxonomy) == Roadmap()


def _uncommented(text: str) -> str:
    """The example under each key in place of its empty value: lines '#key:' and '#  item'
    lose their '#' (prose comments are '# ' then a word), the empty values go."""
    lines = [line for line in text.splitlines() if not re.fullmatch(r"\w+: (\[\]|\{\})", line)]
    return "\n".join(re.sub(r"^#(?=\S|  )", "", line) for line in lines) + "\n"


def test_commented_examples_are_valid_too(tmp_path: Path) -> None:
    write_starter_files(tmp_path)
    taxonomy = load_taxonomy(tmp_path / "taxonomy.yaml")
    roadmap_text = (tmp_path / "roadmap.yaml").read_text(encoding="utf-8")
    (tmp_path / "roadmap.yaml").write_text(_uncommented(roadmap_text), encoding="utf-8")
    roadmap = load_roadmap(tmp_path / "roadmap.yaml", taxonomy)
    assert roadmap.planned
    assert roadmap.effort
    assert roadmap.launches
    assert roadmap.fixes
    mapping_text = (tmp_path / "mapping.yaml").read_text(encoding="utf-8")
    mapping_text = mapping_text.replace("# - what_would_it_take", "- what_would_it_take")
    (tmp_path / "mapping.yaml").write_text(_uncommented(mapping_text), encoding="utf-8")
    mapping = load_mapping(tmp_path / "mapping.yaml")
    assert mapping.date
    assert mapping.survey_type
    assert len(mapping.segments) == 3
    assert len(mapping.text) == 2


def test_existing_files_are_never_overwritten_unless_asked(tmp_path: Path) -> None:
    (tmp_path / "roadmap.yaml").write_text("effort: {}\n", encoding="utf-8")
    with pytest.raises(InputFileError, match=r"roadmap\.yaml: already exists") as caught:
        write_starter_files(tmp_path)
    assert caught.value.code == "THM190"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["roadmap.yaml"]  # nothing written
    assert (tmp_path / "roadmap.yaml").read_text(encoding="utf-8") == "effort: {}\n"
    written = write_starter_files(tmp_path, overwrite=True)
    assert {p.name for p in written} == set(STARTER_FILES)
    assert (tmp_path / "roadmap.yaml").read_bytes() == STARTER_FILES["roadmap.yaml"].read_bytes()
