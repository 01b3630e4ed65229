from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from themer.errors import BadRowsError, InputFileError
from themer.ingest.tables import (
    ColumnMapping,
    detect_mapping,
    load_mapping,
    load_responses,
    read_table,
)


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


def test_strict_bad_rows_name_file_row_column(tmp_path: Path) -> None:
    path = write(tmp_path, "id,score,comment\na,11,x\n,5,y\nc,N/A,z\nd,7,w\nd,8,v\ne,7.5,u\n")
    with pytest.raises(BadRowsError) as info:
        load_responses(path)
    message = str(info.value)
    assert f"{path}, row 2, column 'score': score '11'" in message
    assert f"{path}, row 3, column 'id': missing id" in message
    assert "row 4, column 'score': score 'N/A'" in message
    assert "row 6, column 'id': duplicate id 'd' (first seen in row 5)" in message
    assert "row 7, column 'score': score '7.5'" in message
    assert info.value.code == "THM102"


def test_lenient_skips_and_reports(tmp_path: Path) -> None:
    path = write(tmp_path, "id,score,comment\na,11,x\nb,9,great\nc,,z\n")
    result = load_responses(path, strict=False)
    assert list(result.responses["response_id"]) == ["b"]
    assert len(result.problems) == 2
    assert "score '(empty)'" in result.problems[1]


def test_stars5_scale_is_declared(tmp_path: Path) -> None:
    path = write(tmp_path, "id,stars,text\na,5,x\nb,4,y\nc,3,z\n")
    result = load_responses(path, scale="stars5")
    assert list(result.responses["category"]) == ["promoter", "passive", "detractor"]
    with pytest.raises(BadRowsError, match="not an integer in 1-5"):
        load_responses(write(tmp_path, "id,stars,text\na,0,x\n", "b.csv"), scale="stars5")


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


def test_unreadable_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="empty"):
        read_table(write(tmp_path, ""))
    with pytest.raises(InputFileError, match="header but no data"):
        read_table(write(tmp_path, "id,score,comment\n", "h.csv"))
    latin = tmp_path / "l.csv"
    latin.write_bytes("id,score,comment\na,9,caf\xe9 cr\xe8me\n".encode("latin-1"))
    with pytest.raises(InputFileError, match=r"not valid utf-8-sig.*--encoding"):
        read_table(latin)
    assert read_table(latin, encoding="latin-1")["comment"][0] == "café crème"
    with pytest.raises(InputFileError, match="unsupported file type"):
        read_table(write(tmp_path, "x", "a.pdf"))
    with pytest.raises(InputFileError, match="could not detect the score"):
        detect_mapping(pd.DataFrame({"id": ["a"], "comment": ["x"]}))


def test_xlsx_and_jsonl(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": ["a", "b"], "score": [9, 3], "comment": ["fine", "bad"]})
    frame.to_excel(tmp_path / "s.xlsx", index=False)
    frame.to_json(tmp_path / "s.jsonl", orient="records", lines=True)
    for name in ("s.xlsx", "s.jsonl"):
        result = load_responses(tmp_path / name)
        assert list(result.responses["score"]) == [9, 3]
