from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from themer.errors import InputFileError
from themer.ingest.mapping import (
    ColumnMapping,
    column_key,
    detect_mapping,
    detect_segments,
    load_mapping,
)
from themer.ingest.streaming import load_responses


def write(tmp_path: Path, text: str, name: str = "s.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_detects_common_columns(survey_csv: Path) -> None:
    result = load_responses(survey_csv)
    mapping = result.mapping
    assert (mapping.id, mapping.score, mapping.text, mapping.survey_type) == (
        "response_id", "score", ["comment"], "survey_type")
    frame = result.responses
    assert list(frame["category"][:4]) == ["promoter", "detractor", "passive", "detractor"]
    assert frame["row"].iloc[0] == 2  # spreadsheet numbering, header is row 1


def test_mapping_file_and_missing_column(tmp_path: Path) -> None:
    data = write(tmp_path, "rid,nps,why,what\na,9,x,y\n")
    mapping = write(tmp_path, "id: rid\nscore: nps\ntext: [why, what]\n", "m.yaml")
    result = load_responses(data, load_mapping(mapping))
    assert list(result.responses.columns[-2:]) == ["text:why", "text:what"]
    with pytest.raises(InputFileError, match=r"column\(s\) \['missing'\] not found"):
        load_responses(data, ColumnMapping(id="rid", score="nps", text=["missing"]))
    bad = write(tmp_path, "id: rid\nscore: nps\ntexts: [why]\n", "bad.yaml")
    with pytest.raises(InputFileError, match=r"bad\.yaml, key"):
        load_mapping(bad)
    assert load_mapping(write(tmp_path, "id: a\nscore: b\ntext: c\n", "one.yaml")).text == ["c"]


@pytest.mark.parametrize(("text", "code"), [(None, "THM109"), ("id: [\n", "THM110"),
                                            ("id: a\nscore: b\n", "THM111")])
def test_mapping_file_errors_keep_their_codes(tmp_path: Path, text: str | None,
                                              code: str) -> None:
    path = tmp_path / "m.yaml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    with pytest.raises(InputFileError) as info:
        load_mapping(path)
    assert info.value.code == code


def test_undetectable_columns_are_named_without_cli_flags() -> None:
    with pytest.raises(InputFileError, match="could not detect the score") as info:
        detect_mapping(pd.DataFrame({"id": ["a"], "comment": ["x"]}))
    assert info.value.code == "THM112"
    assert "--" not in str(info.value)


def test_named_columns_win_and_segments_are_detected() -> None:
    frame = pd.DataFrame({"id": list("abcd"), "nps": ["1", "2", "3", "4"], "why": list("wxyz"),
                          "note": list("pqrs"), "plan": ["pro", "free", "pro", "free"],
                          "uses_sso": ["1", "0", "1", "1"]})
    mapping = detect_mapping(frame, text_cols=["note"])
    assert (mapping.id, mapping.score, mapping.text) == ("id", "nps", ["note"])
    assert mapping.segments == {"plan": "plan", "feature:sso": "uses_sso"}
    assert detect_mapping(frame, auto_segments=False).segments == {}


def test_detect_segments_skips_numbers_dates_and_free_text() -> None:
    frame = pd.DataFrame({"Plan": ["a", "b", "a", "b"], "n": ["1", "2", "1", "2"],
                          "day": ["2024-01-01", "2024-01-02"] * 2, "cohort": ["2024-Q3"] * 4,
                          "comment": ["one", "two", "three", "four"]})
    assert detect_segments(frame) == {"plan": "Plan", "cohort": "cohort"}


def test_column_key() -> None:
    assert column_key("  Person Properties: Plan ") == "person_properties_plan"
