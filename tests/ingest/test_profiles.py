"""Vendor exports (project-made fixtures with each tool's quirks) map to the same rows."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from themer.cli import app
from themer.errors import InputFileError
from themer.ingest.profiles import apply_profile, detect_profile
from themer.ingest.streaming import load_responses

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "vendors"
CANONICAL = [
    ("r1", 9, "2025-03-01", ["Love the dashboards, they save me hours.",
                             "Faster exports would help."]),
    ("r2", 3, "2025-03-02", ["The app keeps crashing when I upload files.", ""]),
    ("r3", 7, "2025-03-03", ["", "Add a dark mode for late work."]),
    ("r4", 10, "2025-03-04", ["Great support team, quick answers.", "Nothing, keep it up."]),
]


def _rows(frame: pd.DataFrame) -> list[tuple[str, int, str, list[str]]]:
    texts = [c for c in frame.columns if c.startswith("text:")]
    return [(r["response_id"], int(r["score"]), r["date"].date().isoformat(),
             [str(r[c]) for c in texts]) for _, r in frame.iterrows()]


@pytest.mark.parametrize("vendor", ["qualtrics", "surveymonkey", "typeform", "delighted",
                                    "medallia"])
def test_every_vendor_export_imports_to_the_same_rows(vendor: str) -> None:
    result = load_responses(FIXTURES / f"{vendor}.csv")
    assert result.profile == vendor
    assert _rows(result.responses) == CANONICAL


@pytest.mark.parametrize("vendor", ["qualtrics", "surveymonkey", "typeform", "delighted",
                                    "medallia"])
def test_every_vendor_export_as_xlsx_imports_to_the_same_rows(vendor: str,
                                                               tmp_path: Path) -> None:
    cells = pd.read_csv(FIXTURES / f"{vendor}.csv", header=None, dtype=str,
                        keep_default_na=False)  # every row, the vendor's header rows too
    workbook = tmp_path / f"{vendor}.xlsx"
    cells.to_excel(workbook, header=False, index=False)
    result = load_responses(workbook)
    assert result.profile == vendor
    assert _rows(result.responses) == CANONICAL


@pytest.mark.parametrize("vendor", ["typeform", "delighted", "medallia"])
def test_single_header_exports_as_json_records_import_to_the_same_rows(
        vendor: str, tmp_path: Path) -> None:
    frame = pd.read_csv(FIXTURES / f"{vendor}.csv", dtype=str, keep_default_na=False)
    frame.to_json(tmp_path / f"{vendor}.json", orient="records")
    frame.to_json(tmp_path / f"{vendor}.jsonl", orient="records", lines=True)
    for suffix in ("json", "jsonl"):
        result = load_responses(tmp_path / f"{vendor}.{suffix}")
        assert result.profile == vendor
        assert _rows(result.responses) == CANONICAL


def test_multi_select_columns_are_no_comments_and_short_comments_are() -> None:
    qualtrics = load_responses(FIXTURES / "qualtrics.csv")
    assert "Q5" not in qualtrics.mapping.text  # "Dashboards,Exports,Integrations"
    monkey = load_responses(FIXTURES / "surveymonkey.csv")
    assert not {"Which features do you use?", "Unnamed: 12", "Unnamed: 13"} & set(
        monkey.mapping.text)
    short = pd.read_csv(FIXTURES / "qualtrics.csv", dtype=str, keep_default_na=False)
    short.loc[2:, "Q2"] = ["ok", "", "ok", "good"]  # terse answers to an open question
    profile = detect_profile(short)
    assert profile is not None
    _, mapping = apply_profile(short, profile)
    assert mapping.text == ["Q2", "Q3"]


def test_quirks_are_handled() -> None:
    qualtrics = load_responses(FIXTURES / "qualtrics.csv")
    assert qualtrics.n_input_rows == 4  # question-text and ImportId rows are not answers
    assert "Q4_4_TEXT" not in qualtrics.mapping.text  # "Other (please specify)" is no comment
    assert "Q1_NPS_GROUP" not in qualtrics.mapping.text
    monkey = load_responses(FIXTURES / "surveymonkey.csv")
    assert monkey.mapping.date == "End Date"
    assert all("Unnamed" not in c for c in monkey.mapping.text)  # the other-specify column
    delighted = load_responses(FIXTURES / "delighted.csv")
    assert delighted.mapping.segments == {"plan": "Person Properties: Plan"}
    assert list(delighted.responses["segment:plan"]) == ["Pro", "Free", "Pro", "Team"]
    medallia = load_responses(FIXTURES / "medallia.csv")
    assert medallia.mapping.segments == {"plan": "e_plan"}


def test_generic_files_are_not_taken_for_a_vendor(tmp_path: Path) -> None:
    plain = tmp_path / "plain.csv"
    plain.write_text("response_id,score,comment,created_at\nr1,9,ok,2025-01-01\n",
                     encoding="utf-8")
    assert detect_profile(pd.read_csv(plain, dtype=str)) is None  # not Delighted
    assert load_responses(plain).profile == "generic"
    explicit = load_responses(FIXTURES / "typeform.csv", id_col="#",
                              score_col="How likely are you to recommend Acme to a friend or "
                              "colleague?", text_cols=["What is the main reason for your score?"])
    assert explicit.profile == "generic"  # flags win over the profile


def test_a_vendor_export_without_a_score_says_so() -> None:
    frame = pd.read_csv(FIXTURES / "medallia.csv", dtype=str, keep_default_na=False)
    profile = detect_profile(frame)
    assert profile is not None
    with pytest.raises(InputFileError, match="likely to recommend") as info:
        apply_profile(frame.drop(columns="q_ltr_scale11"), profile, source="m.csv")
    assert info.value.code == "THM197"  # THM132 is a JSON file that cannot be read
    assert "--" not in str(info.value)  # the library names no CLI flag


def test_import_dry_run_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    database = tmp_path / "store.db"
    monkeypatch.setenv("THEMER_DATABASE_URL", f"sqlite:///{database}")
    bad = tmp_path / "qualtrics_bad.csv"
    lines = (FIXTURES / "qualtrics.csv").read_text(encoding="utf-8").splitlines()
    lines[4] = lines[4].replace(",r2,anonymous,3,", ",r2,anonymous,11,")  # score 11
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["import", str(bad), "--dry-run"])
    assert result.exit_code == 0, result.output
    said = " ".join(result.output.split())  # rich wraps long lines
    assert "profile 'qualtrics'" in said
    assert "3 of 4 rows would be stored, 1 problem(s); nothing was written" in said
    assert "row 5, column 'Q1': score '11'" in said  # the file's row of the bad answer
    assert not database.exists()
