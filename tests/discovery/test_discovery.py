"""Theme discovery on synthetic vectors (no model) and once through the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from themer.cli import app
from themer.discovery.cluster import discover, min_cluster_size_for
from themer.errors import StatsError

TOPICS = {
    "export": ["export to pdf fails", "pdf export is blank", "cannot export pdf reports"],
    "calendar": ["calendar sync drops events", "google calendar sync broken",
                 "calendar events missing"],
    "dark": ["dark mode please", "need a dark theme", "dark mode for night work"],
}


def _blobs(per_topic: int = 30, noise: int = 4, seed: int = 1
           ) -> tuple[pd.DataFrame, np.ndarray, pd.DataFrame]:
    """Three tight topics on the unit sphere plus unrelated statements (fewer than a cluster)."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(3, 32))
    rows, vectors = [], []
    for t, (topic, phrases) in enumerate(TOPICS.items()):
        for i in range(per_topic):
            rows.append((f"r{topic}{i}", f"{phrases[i % 3]} #{i}", "detractor" if t == 0
                         else "promoter"))
            vectors.append(centres[t] + 0.15 * rng.normal(size=32))
    for i in range(noise):
        rows.append((f"n{i}", f"something else entirely {i}", "passive"))
        vectors.append(rng.normal(size=32) * 3)
    matrix = np.asarray(vectors, dtype=np.float32)
    matrix /= np.linalg.norm(matrix, axis=1, keepdims=True)
    statements = pd.DataFrame({"response_id": [r[0] for r in rows],
                               "statement_id": [f"{r[0]}#0" for r in rows],
                               "statement": [r[1] for r in rows]})
    responses = pd.DataFrame({"response_id": [r[0] for r in rows] + ["silent"],
                              "category": [r[2] for r in rows] + ["promoter"]})
    return statements, matrix, responses


def test_finds_the_topics_names_them_and_reports_outliers() -> None:
    statements, vectors, responses = _blobs()
    found = discover(statements, vectors, responses, min_cluster_size=5)
    assert len(found.candidates) == 3
    for candidate in found.candidates:  # each holds one whole topic, never two
        topics = {m["response_id"][1:-1].rstrip("0123456789") for m in candidate.members
                  if m["response_id"].startswith("r")}
        assert len(topics) == 1
        assert sum(m["response_id"].startswith("r") for m in candidate.members) == 30
    labels = " ".join(c.label for c in found.candidates)
    for word in ("pdf", "calendar", "dark"):
        assert word in labels
    assert len({c.label for c in found.candidates}) == 3  # no duplicate names
    export = next(c for c in found.candidates if "pdf" in c.label or "export" in c.label)
    assert export.category_mix["detractor"] == 30
    assert export.share == pytest.approx(export.respondents / len(responses))
    assert 3 <= len(export.quotes) <= 5
    assert found.unclustered_rate <= found.outlier_rate


def test_same_input_in_any_order_gives_the_same_candidates() -> None:
    statements, vectors, responses = _blobs()
    first = discover(statements, vectors, responses, min_cluster_size=5)
    order = np.random.default_rng(3).permutation(len(statements))
    second = discover(statements.iloc[order].reset_index(drop=True), vectors[order], responses,
                      min_cluster_size=5)
    summary = [(c.id, c.label, c.size, sorted(m["statement_id"] for m in c.members))
               for c in first.candidates]
    assert summary == [(c.id, c.label, c.size, sorted(m["statement_id"] for m in c.members))
                       for c in second.candidates]
    assert first.outlier_rate == second.outlier_rate


def test_reassignment_threshold_controls_the_unclustered_share() -> None:
    statements, vectors, responses = _blobs(noise=0)
    strict = discover(statements, vectors, responses, min_cluster_size=5,
                      reassign_threshold=1.01)
    loose = discover(statements, vectors, responses, min_cluster_size=5,
                     reassign_threshold=-1.0)
    assert strict.unclustered_rate == strict.outlier_rate == 1.0  # nobody is that close
    assert not strict.candidates
    assert loose.unclustered_rate == 0.0


def test_bad_input() -> None:
    statements, vectors, responses = _blobs()
    with pytest.raises(StatsError):
        discover(statements, vectors[:-1], responses)
    with pytest.raises(StatsError):
        discover(statements.head(1), vectors[:1], responses)
    assert min_cluster_size_for(100) == 5
    assert min_cluster_size_for(100_000) == 100


def test_cli_contract(tmp_path: Path) -> None:
    texts = ["The PDF export fails every time.", "Exporting to PDF gives a blank page.",
             "PDF export is broken.", "Calendar sync drops our events.",
             "Google Calendar sync stopped working.", "Events vanish from the calendar sync.",
             "Please add a dark mode.", "A dark theme would help at night.",
             "Dark mode, please."]
    frame = pd.DataFrame({"response_id": [f"r{i}" for i in range(54)],
                          "score": [i % 11 for i in range(54)],
                          "comment": [texts[i % 9] + f" Ticket {i}." for i in range(54)]})
    path = tmp_path / "survey.csv"
    frame.to_csv(path, index=False)
    out = tmp_path / "discover.json"
    result = CliRunner().invoke(app, ["discover", str(path), "--all", "--min-cluster-size", "5",
                                      "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    assert {"n_statements", "outlier_rate", "unclustered_rate", "candidates"} <= set(data)
    assert data["candidates"]
    candidate = data["candidates"][0]
    assert {"id", "label", "keywords", "size", "share", "nps", "ci_low", "ci_high", "quotes",
            "nearest_areas", "members"} <= set(candidate)
    assert candidate["members"][0]["response_id"].startswith("r")


def test_candidates_keep_their_ids_as_data_grows() -> None:
    from themer.discovery.cluster import track

    statements, vectors, responses = _blobs(per_topic=30)
    first = discover(statements, vectors, responses, min_cluster_size=5)
    more, more_vectors, more_responses = _blobs(per_topic=40, seed=1)  # same topics, more data
    rng = np.random.default_rng(9)  # plus a fourth, emerging topic
    centre = rng.normal(size=32)
    extra = centre + 0.15 * rng.normal(size=(20, 32))
    extra /= np.linalg.norm(extra, axis=1, keepdims=True)
    grown = pd.concat([more, pd.DataFrame({
        "response_id": [f"e{i}" for i in range(20)],
        "statement_id": [f"e{i}#0" for i in range(20)],
        "statement": [f"offline mode on planes {i}" for i in range(20)]})], ignore_index=True)
    everyone = pd.concat([more_responses, pd.DataFrame({
        "response_id": [f"e{i}" for i in range(20)], "category": "detractor"})])
    second = track(discover(grown, np.vstack([more_vectors, extra]).astype(np.float32),
                            everyone, min_cluster_size=5), first.to_dict())
    assert {c.id for c in first.candidates} <= {c.id for c in second.candidates}
    tracked = [c for c in second.candidates if c.status == "tracked"]
    assert len(tracked) == 3
    assert all(c.previous_size is not None and 30 <= c.previous_size < c.size for c in tracked)
    assert all(c.growth == c.size - c.previous_size for c in tracked)  # type: ignore[operator]
    (emerging,) = [c for c in second.candidates if c.status == "new"]
    assert "offline" in emerging.label or "planes" in emerging.label
    assert emerging.nps == pytest.approx(-100.0)
    orphan = discover(grown, np.vstack([more_vectors, extra]).astype(np.float32),
                      more_responses, min_cluster_size=5)  # its respondents are unknown
    assert [c.nps for c in orphan.candidates if "offline" in c.label] == [None]


def test_promote_adds_an_area_and_retagging_uses_it(tmp_path: Path,
                                                    encoder: object, splitter: object) -> None:
    from themer.discovery.decisions import promote
    from themer.errors import TaxonomyError
    from themer.nlp.tagger import Tagger
    from themer.taxonomy import parse_taxonomy

    root = Path(__file__).resolve().parents[2]
    original = (root / "taxonomy.yaml").read_text(encoding="utf-8")
    candidate = {"id": "cand-x", "label": "offline / planes", "keywords": ["offline", "planes"],
                 "size": 12, "quotes": ["We need to work offline on planes.",
                                        "Offline mode for flights, please.",
                                        "Nothing works without wifi on a plane."]}
    discovery = tmp_path / "discover.json"
    discovery.write_text(json.dumps({"candidates": [candidate]}), encoding="utf-8")
    output = tmp_path / "taxonomy-v2.yaml"
    result = CliRunner().invoke(app, ["promote", str(discovery), "cand-x", "--id",
                                      "offline_mode", "--owner", "mobile", "--by", "ana",
                                      "--decisions", str(tmp_path / "decisions.jsonl"),
                                      "--taxonomy", str(root / "taxonomy.yaml"), "-o",
                                      str(output)])
    assert result.exit_code == 0, result.output
    edited = output.read_text(encoding="utf-8")
    assert edited.startswith(original.split("version: 1")[0])  # comments and layout kept
    new = parse_taxonomy(edited)
    assert new.version == 2
    area = next(a for a in new.taxonomy.areas if a.id == "offline_mode")
    assert area.examples == candidate["quotes"]
    decision = json.loads((tmp_path / "decisions.jsonl").read_text().splitlines()[0])
    assert (decision["action"], decision["area"], decision["by"]) == (
        "promote", "offline_mode", "ana")
    statement = pd.DataFrame({"response_id": ["r1"], "text:reason": [
        "We need to work offline on planes."]})
    before = Tagger.build(parse_taxonomy(original), encoder, splitter)  # type: ignore[arg-type]
    after = Tagger.build(new, encoder, splitter)  # type: ignore[arg-type]
    old_tags = before.tag_statements(before.split(statement))
    new_tags = after.tag_statements(after.split(statement))
    assert "offline_mode" not in set(old_tags["label"])
    assert "offline_mode" in set(new_tags.loc[new_tags["kind"] == "area", "label"])
    again = CliRunner().invoke(app, ["promote", str(discovery), "cand-x", "--id", "search",
                                     "--decisions", str(tmp_path / "decisions.jsonl"),
                                     "--taxonomy", str(root / "taxonomy.yaml"), "-o",
                                     str(tmp_path / "clash.yaml")])
    assert again.exit_code == 2  # the id is taken: a clear error, no file
    assert not (tmp_path / "clash.yaml").exists()
    missing = CliRunner().invoke(app, ["promote", str(discovery), "cand-y", "--id", "x_y",
                                       "-o", str(tmp_path / "y.yaml")])
    assert "no candidate 'cand-y'" in missing.output
    with pytest.raises(TaxonomyError):
        promote("areas: []\n", candidate, "z")


def _purity(gold: list[str], labels: np.ndarray) -> float:
    """Share of clustered statements whose cluster's majority gold label is theirs."""
    frame = pd.DataFrame({"gold": gold, "cluster": labels})
    clustered = frame[frame["cluster"] != -1]
    majority = clustered.groupby("cluster")["gold"].agg(lambda g: g.value_counts().iloc[0])
    return float(majority.sum() / len(clustered))


def test_outlier_reassignment_keeps_clusters_pure() -> None:
    from themer.discovery.cluster import cluster_vectors

    rng = np.random.default_rng(5)
    centres = rng.normal(size=(4, 48))
    vectors, gold = [], []
    for t in range(4):  # tight cores and a loose fringe around each topic
        for spread, n in ((0.25, 40), (2.0, 15)):
            vectors.append(centres[t] + spread * rng.normal(size=(n, 48)))
            gold += [f"topic{t}"] * n
    vectors.append(rng.normal(size=(20, 48)) * 3)  # unrelated statements
    gold += ["noise"] * 20
    unit = np.vstack(vectors).astype(np.float32)
    unit /= np.linalg.norm(unit, axis=1, keepdims=True)
    noise = np.asarray(gold) == "noise"
    for neighbours in (0, 10):  # without and with the neighbour smoothing
        found = cluster_vectors(unit, min_cluster_size=8, reassign_threshold=0.4,
                                neighbours=neighbours)
        before, after = _purity(gold, found.raw), _purity(gold, found.labels)
        assert after >= before - 0.02  # joining outliers does not mix topics
        assert np.mean(found.labels[noise] == -1) >= 0.8  # unrelated statements stay out
        if neighbours == 0:  # the fringe HDBSCAN left out was joined
            assert np.sum((found.raw == -1) & (found.labels != -1)) >= 3


def test_a_sample_is_clustered_and_the_rest_placed_by_the_model() -> None:
    statements, vectors, responses = _blobs(per_topic=60, noise=0)
    full = discover(statements, vectors, responses, min_cluster_size=5)
    sampled = discover(statements, vectors, responses, min_cluster_size=5, max_sample=90)
    assert sampled.clustered_sample == 90 < sampled.n_distinct == 180
    assert len(sampled.candidates) == 3

    def groups(found: object) -> set[frozenset[str]]:
        return {frozenset(m["statement_id"] for m in c.members)
                for c in found.candidates}  # type: ignore[attr-defined]

    assert groups(sampled) == groups(full)  # same partition as clustering everything
    order = np.random.default_rng(2).permutation(len(statements))
    shuffled = discover(statements.iloc[order].reset_index(drop=True), vectors[order],
                        responses, min_cluster_size=5, max_sample=90)
    assert [c.id for c in shuffled.candidates] == [c.id for c in sampled.candidates]


def test_labels_from_lemmas_and_noun_chunks() -> None:
    from themer.discovery.labels import label_clusters, load_label_nlp

    clusters = [["The exported PDFs are blank.", "Exporting PDF files fails.",
                 "PDF exports keep failing on large reports."],
                ["Calendar syncing drops events.", "The calendar sync loses my events.",
                 "Events vanish after a calendar sync."],
                ["Invoices show the wrong currency.", "Invoice currency is wrong.",
                 "Wrong currency on every invoice."]]
    nlp = load_label_nlp()
    assert nlp is not None
    named = label_clusters(clusters, nlp)
    labels = [label for label, _ in named]
    assert len(set(labels)) == 3
    assert "pdf" in labels[0]
    assert "calendar" in labels[1]
    assert "currency" in labels[2]
    assert "export" in named[0][1]  # lemma: exported / exporting / exports -> export
    assert any(" " in k for _, keywords in named for k in keywords)  # noun chunks count
    reserved = label_clusters(clusters[:1], nlp, reserved=[labels[0]])
    assert reserved[0][0] != labels[0]  # never the same name twice


def test_decisions_rename_merge_discard_promote(tmp_path: Path) -> None:
    from themer.discovery.decisions import (
        Decision,
        append_decision,
        apply_decisions,
        read_decisions,
    )
    from themer.errors import InputFileError

    statements, vectors, responses = _blobs()
    found = discover(statements, vectors, responses, min_cluster_size=5)
    ids = {("pdf" if "pdf" in c.label or "export" in c.label else
            "calendar" if "calendar" in c.label or "sync" in c.label else "dark"): c.id
           for c in found.candidates}
    log = tmp_path / "decisions.jsonl"
    for decision in (Decision(action="rename", candidate=ids["dark"], label="Dark mode"),
                     Decision(action="merge", candidate=ids["calendar"], into=ids["pdf"]),
                     Decision(action="promote", candidate=ids["pdf"], area="exports"),
                     Decision(action="discard", candidate="cand-gone")):
        append_decision(log, decision)
    category = dict(zip(responses["response_id"], responses["category"], strict=True))
    curated = apply_decisions(found, read_decisions(log), category, len(responses))
    by_id = {c.id: c for c in curated.candidates}
    assert set(by_id) == {ids["dark"], ids["pdf"]}
    assert by_id[ids["dark"]].label == "Dark mode"
    merged = by_id[ids["pdf"]]
    parts = [c for c in found.candidates if c.id in (ids["pdf"], ids["calendar"])]
    assert merged.size == sum(c.size for c in parts)
    assert merged.status == "promoted"
    assert merged.respondents == sum(c.respondents for c in parts)  # no one in both
    mix = {g: sum(c.category_mix[g] for c in parts) for g in merged.category_mix}
    assert merged.category_mix == mix
    assert merged.nps == pytest.approx(100 * (mix["promoter"] - mix["detractor"])
                                       / sum(mix.values()))
    assert [d["action"] for d in curated.dismissed] == ["merge"]
    discarded = apply_decisions(found, [Decision(action="discard", candidate=ids["dark"])],
                                category, len(responses))
    assert ids["dark"] not in {c.id for c in discarded.candidates}
    assert discarded.dismissed[0]["id"] == ids["dark"]
    log.write_text(log.read_text() + '{"action": "merge", "candidate": "cand-a"}\n')
    with pytest.raises(InputFileError, match="line 5"):
        read_decisions(log)


def test_cli_decide_and_filters(tmp_path: Path) -> None:
    texts = ["The PDF export fails every time.", "Exporting to PDF gives a blank page.",
             "PDF export is broken.", "Calendar sync drops our events.",
             "Google Calendar sync stopped working.", "Events vanish from the calendar sync."]
    frame = pd.DataFrame({"response_id": [f"r{i}" for i in range(60)],
                          "score": [0 if i % 2 else 10 for i in range(60)],
                          "date": ["2025-01-10" if i < 30 else "2025-03-10" for i in range(60)],
                          "comment": [f"{texts[i % 6][:-1]} for order {i}." for i in range(60)]})
    path = tmp_path / "survey.csv"
    frame.to_csv(path, index=False)
    out, log = tmp_path / "d.json", tmp_path / "decisions.jsonl"
    base = ["discover", str(path), "--all", "--min-cluster-size", "5", "--decisions", str(log)]
    result = CliRunner().invoke(app, [*base, "--category", "detractor", "--json", str(out)])
    assert result.exit_code == 0, result.output
    data = json.loads(out.read_text())
    members = {m["response_id"] for c in data["candidates"] for m in c["members"]}
    assert members
    assert all(int(r[1:]) % 2 == 1 for r in members)
    first = data["candidates"][0]
    renamed = CliRunner().invoke(app, ["decide", str(out), "rename", first["id"], "--label",
                                       "Export problems", "--decisions", str(log)])
    assert renamed.exit_code == 0, renamed.output
    again = CliRunner().invoke(app, [*base, "--category", "detractor", "--previous", str(out),
                                     "--json", str(tmp_path / "d2.json")])
    assert again.exit_code == 0, again.output
    labels = [c["label"] for c in json.loads((tmp_path / "d2.json").read_text())["candidates"]]
    assert "Export problems" in labels
    bad = CliRunner().invoke(app, ["decide", str(out), "rename", first["id"], "--decisions",
                                   str(log)])
    assert bad.exit_code == 2
    assert "needs 'label'" in bad.output
    dated = CliRunner().invoke(app, [*base, "--since", "2025-03-01", "--date-col", "date",
                                     "--json", str(tmp_path / "d3.json")])
    assert dated.exit_code == 0, dated.output
    recent = {m["response_id"] for c in json.loads((tmp_path / "d3.json").read_text())[
        "candidates"] for m in c["members"]}
    assert recent
    assert all(int(r[1:]) >= 30 for r in recent)
    undated = tmp_path / "undated.csv"
    frame.drop(columns="date").to_csv(undated, index=False)
    nodate = CliRunner().invoke(app, ["discover", str(undated), "--since", "2025-03-01"])
    assert nodate.exit_code == 2
    assert "date column" in nodate.output
