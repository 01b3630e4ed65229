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
from themer.io import iter_responses, load_responses
from themer.store.models import Job, ResponseRow

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "vendors"
GOOD = "id,score,comment\nr1,9,Great reports\nr2,3,Slow sync\nr3,7,Fine overall\n"


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
    "score 11": (GOOD + "r4,11,Too slow\n", "row 5, column 'score': score '11'"),
    "score N/A": (GOOD + "r4,N/A,Too slow\n", "row 5, column 'score': score 'N/A'"),
    "missing id": (GOOD + ",5,Too slow\n", "row 5, column 'id': missing id"),
    "duplicate id in a later chunk": (
        GOOD + "r1,5,Too slow\n", "row 5, column 'id': duplicate id 'r1' (first seen in row 2)"),
    "empty file": ("", "the file is empty"),
    "header only": ("id,score,comment\n", "header but no data rows"),
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
        export.write_bytes((GOOD + "r4,5,Caf\xe9 cr\xe8me\n").encode("latin-1"))
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
    if database.exists():  # the first chunks were valid: the transaction was rolled back
        assert _count(url, ResponseRow.id) == 0
        assert _count(url, Job.id) == 0


def test_a_chunked_import_stores_every_row_once(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'store.db'}"
    monkeypatch.setenv("THEMER_DATABASE_URL", url)
    monkeypatch.setenv("THEMER_IMPORT_CHUNK_ROWS", "2")
    export = tmp_path / "export.csv"
    export.write_text(GOOD + "r4,10,Love it\nr5,0,Broken\n", encoding="utf-8")
    first = CliRunner().invoke(app, ["import", str(export), "--no-wait"])
    assert first.exit_code == 0, first.output
    assert "stored 5 new responses (0 already there)" in " ".join(first.output.split())
    again = CliRunner().invoke(app, ["import", str(export), "--no-wait"])
    assert "stored 0 new responses (5 already there)" in " ".join(again.output.split())
    assert _count(url, ResponseRow.id) == 5


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
