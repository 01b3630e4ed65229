from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from themer.errors import BadRowsError
from themer.ingest.mapping import ColumnMapping
from themer.ingest.streaming import load_responses
from themer.ingest.validation import MAX_PROBLEMS_SHOWN, IdIndex, validate_responses

MAPPING = ColumnMapping(id="id", score="score", text=["comment"], date="date")


def write(tmp_path: Path, text: str, name: str = "s.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def frame(rows: list[tuple[str, str, str, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["id", "score", "comment", "date"])


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
    assert "--" not in message  # the library names no CLI flag


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


def test_problems_come_in_check_order_with_the_files_rows() -> None:
    data = frame([("a", "9", "x", "2024-01-01"), ("", "5", "y", "not a date"),
                  ("a", "12", "z", ""), ("b", "7", "w", "")])
    result = validate_responses(data, MAPPING, source="f.csv", strict=False, row_offset=2)
    assert result.problems == [
        "f.csv, row 5, column 'id': missing id.",
        "f.csv, row 6, column 'id': duplicate id 'a' (first seen in row 4).",
        "f.csv, row 6, column 'score': score '12' is not an integer in 0-10 (scale 'nps').",
        "f.csv, row 5, column 'date': 'not a date' is not a date (use ISO 8601, e.g. 2026-03-31).",
    ]
    assert result.responses["row"].tolist() == [4, 7]
    assert result.n_input_rows == 4


def test_duplicates_across_chunks_are_found_with_the_first_row() -> None:
    seen = IdIndex()
    validate_responses(frame([("a", "9", "x", ""), ("b", "3", "y", "")]), MAPPING,
                       strict=False, seen=seen)
    later = validate_responses(frame([("c", "9", "x", ""), ("b", "3", "y", "")]), MAPPING,
                               strict=False, row_offset=2, seen=seen)
    assert later.problems == ["input, row 5, column 'id': duplicate id 'b' (first seen in row 3)."]
    assert seen.rows_of(["a", "c", "zz"]).tolist() == [2, 4, 0]


def test_strict_message_shows_the_first_problems_only() -> None:
    many = frame([(f"r{i}", "11", "x", "") for i in range(MAX_PROBLEMS_SHOWN + 5)])
    with pytest.raises(BadRowsError) as info:
        validate_responses(many, MAPPING)
    assert len(info.value.problems) == MAX_PROBLEMS_SHOWN + 5
    assert str(info.value).endswith("\n... and 5 more.")


def test_response_frame_columns_and_types() -> None:
    data = frame([("a", "9", "x", "2024-01-01T10:00:00+02:00"), ("b", "0", "", "")])
    mapping = MAPPING.model_copy(update={"segments": {"plan": "comment"}})
    out = validate_responses(data, mapping).responses
    assert list(out.columns) == ["response_id", "row", "score", "category", "survey_type",
                                 "date", "segment:plan", "text:comment"]
    assert out["category"].dtype == "category"
    assert out["score"].dtype == np.int64
    assert out["date"].iloc[0] == pd.Timestamp("2024-01-01 08:00:00")  # naive UTC
    assert pd.isna(out["date"].iloc[1])
    assert out["survey_type"].tolist() == ["unspecified", "unspecified"]
