from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from themer.errors import InputFileError
from themer.ingest.reader import iter_table, read_table, text_list
from themer.ingest.streaming import load_responses


def write(tmp_path: Path, text: str, name: str = "s.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def test_unreadable_inputs(tmp_path: Path) -> None:
    with pytest.raises(InputFileError, match="empty"):
        read_table(write(tmp_path, ""))
    with pytest.raises(InputFileError, match=r"no data rows \(a header only\)"):
        read_table(write(tmp_path, "id,score,comment\n", "h.csv"))
    latin = tmp_path / "l.csv"
    latin.write_bytes("id,score,comment\na,9,caf\xe9 cr\xe8me\n".encode("latin-1"))
    with pytest.raises(InputFileError, match=r"not valid utf-8-sig.*its own encoding") as info:
        read_table(latin)
    assert info.value.code == "THM107"
    assert "--" not in str(info.value)  # the library names no CLI flag
    assert read_table(latin, encoding="latin-1")["comment"][0] == "café crème"
    with pytest.raises(InputFileError, match="unsupported file type"):
        read_table(write(tmp_path, "x", "a.pdf"))
    with pytest.raises(InputFileError, match="file not found"):
        read_table(tmp_path / "absent.csv")


def test_a_bad_byte_in_a_later_chunk_names_where_it_stopped(tmp_path: Path) -> None:
    path = tmp_path / "l.csv"
    # past the parser's first read buffer, so that earlier chunks were already handed out
    rows = "".join(f"r{i},9,x\n" for i in range(100_000))
    path.write_bytes(("id,score,comment\n" + rows + "b,9,caf\xe9\n").encode("latin-1"))
    with pytest.raises(InputFileError, match=r"after data row \d+"):
        list(iter_table(path, chunk_rows=10_000))


def test_xlsx_and_jsonl(tmp_path: Path) -> None:
    frame = pd.DataFrame({"id": ["a", "b"], "score": [9, 3], "comment": ["fine", "bad"]})
    frame.to_excel(tmp_path / "s.xlsx", index=False)
    frame.to_json(tmp_path / "s.jsonl", orient="records", lines=True)
    for name in ("s.xlsx", "s.jsonl"):
        result = load_responses(tmp_path / name)
        assert list(result.responses["score"]) == [9, 3]


@pytest.mark.parametrize("suffix", [".csv", ".tsv", ".jsonl", ".json", ".parquet", ".xlsx"])
@pytest.mark.parametrize("chunk_rows", [1, 3, 50])
def test_chunks_are_the_whole_table_in_order(tmp_path: Path, suffix: str,
                                             chunk_rows: int) -> None:
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(7)], "score": [str(i) for i in range(7)],
                          "comment": ["x", "", "y, z", "w", "", "v", "u"]})
    path = tmp_path / f"s{suffix}"
    if suffix in (".csv", ".tsv"):
        frame.to_csv(path, index=False, sep="\t" if suffix == ".tsv" else ",")
    elif suffix == ".jsonl":
        frame.to_json(path, orient="records", lines=True)
    elif suffix == ".json":
        frame.to_json(path, orient="records")
    elif suffix == ".parquet":
        frame.to_parquet(path)
    else:
        frame.to_excel(path, index=False)
    chunks = list(iter_table(path, chunk_rows=chunk_rows))
    assert all(len(chunk) <= chunk_rows for chunk in chunks)
    whole = pd.concat(chunks, ignore_index=True)
    pd.testing.assert_frame_equal(whole, read_table(path), check_dtype=False)
    assert whole.map(type).eq(str).all().all()  # every cell a string, "" for missing


def test_text_list_reads_missing_cells_as_empty() -> None:
    assert text_list(pd.Series(["a", None, float("nan"), 3])) == ["a", "", "", "3"]
