"""Big exports are streamed: chunked reads give the whole read's rows with the file's own row
numbers; each kind of bad input is named (file, row, column) and leaves the store empty; a
200 MB file is imported in bounded memory."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from sqlalchemy import create_engine, func, select
from typer.testing import CliRunner

from themer.cli import app
from themer.ingest.streaming import iter_responses, load_responses
from themer.store.models import Job, ResponseRow

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vendors"
# 60 good rows (file rows 2-61): more than the rows profile detection reads first, so a bad
# row after them arrives in a later chunk, after earlier chunks went into the transaction
GOOD = "id,score,comment\n" + "".join(f"r{i},{i % 11},Comment number {i}\n"
                                      for i in range(1, 61))


@pytest.mark.parametrize("name", ["qualtrics.csv", "surveymonkey.csv", "delighted.csv"])
def test_chunked_reads_give_the_whole_reads_rows(name: str, tmp_path: Path) -> None:
    lines = (FIXTURES / name).read_text(encoding="utf-8").splitlines()
    header = 3 if name == "qualtrics.csv" else 2 if name == "surveymonkey.csv" else 1
    answers = [line.replace(f"r{k},", f"r{k}x{copy},")
               for copy in range(30) for line in lines[header:] for k in (1, 2, 3, 4)
               if f"r{k}," in line]
    export = tmp_path / name  # 120 answers: the profile is found in the first chunks
    export.write_text("\n".join(lines[:header] + answers) + "\n", encoding="utf-8")
    whole = load_responses(export)
    parts = list(iter_responses(export, chunk_rows=7))
    assert len(parts) > 5
    assert len(whole.responses) == 120
    assert {p.profile for p in parts} == {whole.profile} == {name.removesuffix(".csv")}
    pd.testing.assert_frame_equal(
        pd.concat([p.responses for p in parts], ignore_index=True), whole.responses)
    assert whole.responses["row"].iloc[-1] == header + 120  # the file's own line


def _count(url: str, column: object) -> int:
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count(column))).scalar_one())
    finally:
        engine.dispose()


BAD_INPUTS = {
    "score 11": (GOOD + "r99,11,Too slow\n", "row 62, column 'score': score '11'"),
    "score N/A": (GOOD + "r99,N/A,Too slow\n", "row 62, column 'score': score 'N/A'"),
    "missing id": (GOOD + ",5,Too slow\n", "row 62, column 'id': missing id"),
    "duplicate id in a later chunk": (
        GOOD + "r1,5,Too slow\n", "row 62, column 'id': duplicate id 'r1' (first seen in row 2)"),
    "empty file": ("", "the file has no data rows (it is empty)"),
    "header only": ("id,score,comment\n", "the file has no data rows (a header only)"),
}


@pytest.mark.parametrize("case", [*BAD_INPUTS, "wrong encoding"])
def test_bad_input_is_named_and_nothing_is_written(
        case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "store.db"
    url = f"sqlite:///{database}"
    monkeypatch.setenv("THEMER_DATABASE_URL", url)
    monkeypatch.setenv("THEMER_IMPORT_CHUNK_ROWS", "2")  # the bad row is in the last chunk
    export = tmp_path / "export.csv"
    if case == "wrong encoding":
        export.write_bytes((GOOD + "r99,5,Caf\xe9 cr\xe8me\n").encode("latin-1"))
        expected = "not valid utf-8-sig"
    else:
        text, expected = BAD_INPUTS[case]
        export.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(app, ["import", str(export), "--no-wait"])
    said = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert str(export) in said
    assert expected in said
    assert "Traceback" not in result.output
    if case in ("empty file", "header only", "wrong encoding"):
        assert not database.exists()  # refused before a store was opened
    else:  # the first chunks were stored, then the transaction was rolled back
        assert _count(url, ResponseRow.id) == 0
        assert _count(url, Job.id) == 0


def test_a_chunked_import_stores_every_row_once(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("THEMER_DATABASE_URL", url)
    monkeypatch.setenv("THEMER_IMPORT_CHUNK_ROWS", "2")
    export = tmp_path / "export.csv"
    export.write_text(GOOD + "r61,10,Love it\nr62,0,Broken\n", encoding="utf-8")
    first = CliRunner().invoke(app, ["import", str(export), "--no-wait"])
    assert first.exit_code == 0, first.output
    assert "stored 62 new responses (0 already there)" in " ".join(first.output.split())
    again = CliRunner().invoke(app, ["import", str(export), "--no-wait"])
    assert "stored 0 new responses (62 already there)" in " ".join(again.output.split())
    assert _count(url, ResponseRow.id) == 62


# The command in a child process that reports its own peak resident memory: VmHWM, as
# ru_maxrss would carry over the parent's (pytest's) peak through fork and exec.
PEAK = """
import re, sys
from pathlib import Path
from themer.cli import app
try:
    app(sys.argv[1:], prog_name="themer", standalone_mode=False)
finally:
    status = Path("/proc/self/status").read_text()
    print("PEAK_KIB", re.search(r"VmHWM:\\s+(\\d+)", status).group(1), file=sys.stderr)
"""


def _peak_mib(tmp_path: Path, export: Path) -> tuple[float, str]:
    done = subprocess.run(
        [sys.executable, "-c", PEAK, "import", str(export), "--dry-run"], capture_output=True,
        text=True, timeout=600, check=False,
        env={**os.environ, "THEMER_DATABASE_URL": f"sqlite:///{tmp_path / export.stem}.db"})
    assert done.returncode == 0, done.stderr[-2000:]
    line = next(x for x in done.stderr.splitlines() if x.startswith("PEAK_KIB"))
    return int(line.split()[1]) / 1024, done.stdout + done.stderr


def test_a_200_mb_export_is_streamed_in_bounded_memory(tmp_path: Path) -> None:
    """Every row is read, validated and turned into a store record (--dry-run stops before
    the database; eval/bench/import_200mb.py times the full import into the store)."""
    words = ["the", "export", "to", "pdf", "fails", "on", "large", "reports", "and", "support",
             "could", "not", "help", "pricing", "went", "up", "again", "for", "our", "team",
             "while", "the", "calendar", "sync", "drops", "events"]
    big = tmp_path / "big.csv"
    rows = 0
    with big.open("w", encoding="utf-8") as handle:
        handle.write("id,score,comment,plan\n")
        while handle.tell() < 200 * 1024 * 1024:
            comment = " ".join(words[(rows + k) % len(words)] for k in range(45))
            handle.write(f"r{rows},{rows % 11},\"{comment}\",{('free', 'pro')[rows % 2]}\n")
            rows += 1
    small = tmp_path / "small.csv"
    small.write_text("".join(big.open(encoding="utf-8").readlines()[:1001]), encoding="utf-8")
    base, _ = _peak_mib(tmp_path, small)
    peak, said = _peak_mib(tmp_path, big)
    assert f"{rows} of {rows} rows would be stored, 0 problem(s)" in " ".join(said.split())
    # read whole, the file's text alone would add more than its 200 MB
    assert peak - base < 200, (base, peak)


def test_a_comment_over_the_limit_is_named_not_an_internal_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("THEMER_DATABASE_URL", url)
    monkeypatch.setenv("THEMER_IMPORT_CHUNK_ROWS", "2")  # refused in the second chunk
    export = tmp_path / "export.csv"
    export.write_text(GOOD + "r99,5," + "x" * 12_000 + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["import", str(export), "--no-wait"])
    said = " ".join(result.output.split())
    assert result.exit_code == 2, result.output
    assert f"{export}, row 62: comments:" in said
    assert "12000 characters; the limit is 10000" in said
    assert _count(url, ResponseRow.id) == 0
