from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from themer.cli import app

runner = CliRunner()


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("THEMER_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("THEMER_MODELS_DIR", str(tmp_path / "no-models"))
    monkeypatch.setenv("THEMER_TAXONOMY", str(Path(__file__).resolve().parents[2] /
                                              "taxonomy.yaml"))
    return tmp_path


def test_tag_and_themes_agree_on_n(env: Path, survey_csv: Path) -> None:
    tagged = env / "tagged.csv"
    result = runner.invoke(app, ["tag", str(survey_csv), "-o", str(tagged),
                                 "--survey-type", "relationship"])
    assert result.exit_code == 0, result.output
    out_json = env / "themes.json"
    report = env / "report.html"
    result = runner.invoke(app, ["themes", str(survey_csv), "--survey-type", "relationship",
                                 "--json", str(out_json), "--report", str(report),
                                 "--min-n", "2"])
    assert result.exit_code == 0, result.output
    tags = pd.read_csv(tagged, keep_default_na=False)
    assert {"response_id", "statement_id", "start", "end", "statement", "kind", "label",
            "confidence"} <= set(tags.columns)
    data = json.loads(out_json.read_text())
    assert data["overall"]["n"] == 10  # r10, r11 are transactional
    assert set(data["overall"]) >= {"n", "nps", "ci_low", "ci_high", "promoters", "passives",
                                    "detractors"}
    checked = 0
    for theme in data["themes"]:
        assert set(theme) >= {"theme", "kind", "n", "frequency", "nps", "ci_low", "ci_high",
                              "impact", "points_at_stake", "small_n"}
        if theme["kind"] in ("area", "type"):
            mentioned = tags[(tags["kind"] == theme["kind"]) & (tags["label"] == theme["theme"])]
            assert theme["n"] == mentioned["response_id"].nunique(), theme["theme"]
            checked += 1
    assert checked >= 3
    html = report.read_text()
    assert "Overall NPS" in html
    assert "<script" not in html  # self-contained, nothing fetched


def test_mixed_survey_types_need_a_choice(env: Path, survey_csv: Path) -> None:
    result = runner.invoke(app, ["themes", str(survey_csv)])
    assert result.exit_code == 2
    assert "never pooled silently" in result.output
    assert "Traceback" not in result.output


def test_bad_input_exit_2_names_row_and_writes_nothing(env: Path) -> None:
    bad = env / "bad.csv"
    bad.write_text("response_id,score,comment\na,11,slow app\nb,9,great\n", encoding="utf-8")
    out = env / "tags.csv"
    result = runner.invoke(app, ["tag", str(bad), "-o", str(out)])
    assert result.exit_code == 2
    assert "row 2, column 'score'" in result.output
    assert "Traceback" not in result.output
    assert not out.exists()
    assert not list(env.glob(".tags.csv*"))
    lenient = runner.invoke(app, ["tag", str(bad), "-o", str(out), "--lenient"])
    assert lenient.exit_code == 0, lenient.output
    assert set(pd.read_csv(out)["response_id"]) == {"b"}


def test_bad_taxonomy_exit_2(env: Path, survey_csv: Path) -> None:
    broken = env / "t.yaml"
    broken.write_text("version: 1\nareas: []\ntypes: []\n", encoding="utf-8")
    result = runner.invoke(app, ["themes", str(survey_csv), "--pool", "--taxonomy", str(broken)])
    assert result.exit_code == 2
    assert "key 'areas'" in result.output


def test_train_then_tag_with_head(env: Path) -> None:
    rows = [("please add an export to PDF", "feature_request"),
            ("would love a dark mode", "feature_request"),
            ("we need SSO support", "feature_request"),
            ("it would be great to have webhooks", "feature_request"),
            ("add a Gantt chart view please", "feature_request"),
            ("the app crashes when I save", "bug"), ("export fails with an error", "bug"),
            ("login is broken since Monday", "bug"), ("numbers in reports are wrong", "bug"),
            ("sync stopped working", "bug"), ("great product", "praise"),
            ("love it", "praise"), ("support is amazing", "praise"),
            ("best tool we use", "praise"), ("works perfectly", "praise")] * 2
    labelled = env / "labelled.csv"
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(labelled, index=False)
    head = env / "models" / "types-demo"
    result = runner.invoke(app, ["train", str(labelled), "--text-col", "text", "--label-col",
                                 "label", "--label-kind", "types", "-o", str(head)])
    assert result.exit_code == 0, result.output
    meta = json.loads((head / "head.json").read_text())
    assert meta["labels"] == ["feature_request", "bug", "praise"]
    assert meta["metrics"]["macro_f1"] > 0.6
    assert len(meta["taxonomy_hash"]) == 64
    data = env / "d.csv"
    data.write_text("id,score,comment\na,2,the app crashes every time\nb,10,love it\n")
    out = env / "t.csv"
    result = runner.invoke(app, ["tag", str(data), "-o", str(out), "--head", str(head)])
    assert result.exit_code == 0, result.output
    assert "types: head:types-demo" in result.output
    tags = pd.read_csv(out)
    types = tags[tags["kind"] == "type"].set_index("response_id")["label"]
    assert types["a"] == "bug"
    assert types["b"] == "praise"
    unknown = env / "u.csv"
    pd.DataFrame([("x", "nonsense")] * 12, columns=["text", "label"]).to_csv(unknown, index=False)
    result = runner.invoke(app, ["train", str(unknown), "--text-col", "text", "--label-col",
                                 "label", "--label-kind", "types", "-o", str(env / "m2")])
    assert result.exit_code == 2
    assert "label 'nonsense' is not in the taxonomy" in result.output


@pytest.mark.parametrize("suffix", [".jsonl", ".json", ".parquet"])
def test_tag_output_formats_match_csv(env: Path, survey_csv: Path, suffix: str) -> None:
    csv_out, other = env / "t.csv", env / f"t{suffix}"
    for path in (csv_out, other):
        result = runner.invoke(app, ["tag", str(survey_csv), "-o", str(path)])
        assert result.exit_code == 0, result.output
    expected = pd.read_csv(csv_out, keep_default_na=False)
    if suffix == ".parquet":
        got = pd.read_parquet(other)
    elif suffix == ".jsonl":
        got = pd.read_json(other, lines=True, dtype=False)
    else:
        got = pd.DataFrame(json.loads(other.read_text(encoding="utf-8")))
    assert list(got.columns) == list(expected.columns)
    assert got["label"].tolist() == expected["label"].tolist()
    assert got["start"].astype(int).tolist() == expected["start"].tolist()
    assert got["confidence"].astype(float).round(4).tolist() == expected["confidence"].tolist()


def test_every_command_has_a_one_line_help() -> None:
    import typer.main

    listed = runner.invoke(app, ["--help"])
    assert listed.exit_code == 0
    group = typer.main.get_command(app)
    names = sorted(group.commands)  # type: ignore[attr-defined]
    assert {"import", "report", "themes", "discover", "doctor", "segments"} <= set(names)
    for name in names:
        assert name in listed.output
        command = group.commands[name]  # type: ignore[attr-defined]
        first = (command.help or "").strip().split("\n\n")[0]
        assert first, f"{name} has no help"
        assert "\n" not in first, f"{name}: the summary line must be one line"


def test_quiet_json_to_stdout_for_scripts(env: Path, survey_csv: Path) -> None:
    result = runner.invoke(app, ["--quiet", "segments", str(survey_csv), "--survey-type",
                                 "relationship", "--segment", "plan=plan", "--min-n", "2",
                                 "--json", "-"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)  # nothing but the JSON on standard output
    assert data["overall"]["n"] == 10
    assert "themer_version" in data
    assert "profile:" not in result.stderr  # --quiet: no notes
    assert "NPS by" not in result.stdout
    failed = runner.invoke(app, ["--quiet", "segments", str(env / "missing.csv")])
    assert failed.exit_code == 2
    assert "file not found" in failed.stderr  # errors still print


def test_errors_print_their_brackets_as_text(monkeypatch: pytest.MonkeyPatch) -> None:
    """The printer escapes the message and hint (``themer[fast]`` is no rich markup) and
    keeps its bold red "error"."""
    import io

    import typer
    from rich.console import Console

    from themer.cli import common
    from themer.errors import Errors

    screen = io.StringIO()
    monkeypatch.setattr(common, "problems", Console(file=screen, force_terminal=True,
                                                    color_system="standard", width=200))

    @common.handle_errors
    def fails() -> None:
        raise Errors.THM162.error(value=2)

    @common.handle_errors
    def needs_extras() -> None:
        raise Errors.THM399.error()

    for command in (fails, needs_extras):
        with pytest.raises(typer.Exit) as done:
            command()
        assert done.value.exit_code == 2
    printed = screen.getvalue()
    assert "\x1b[1;31merror\x1b[0m [THM162] edge share must be in [0, 1), not 2." in printed
    assert "(Pass --edge-share in [0, 1).)" in printed
    assert "[THM399] the static encoder needs model2vec, which is not installed. " \
           "(pip install 'themer[fast]'.)" in printed
