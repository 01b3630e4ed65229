"""Theme frequency and NPS against the gold table, raw hard-tag counts vs quantification-corrected.

On the star-rated public sets (maalej: review types; aurea: app areas; stars mapped to NPS
groups by the declared ``stars5`` scale) this runs, through the same library call as
``themer eval``:
  * ``head (cv5)``: a trained head in 5-fold cross-validation; each held-out fold is corrected
    with the error rates its training fold's head measured on its own training rows (inner
    out-of-fold), so nothing leaks;
  * ``zero-shot``: no measured error rates, so corrected = raw;
  * ``zero-shot + N labelled``: zero-shot tags corrected with error rates counted on N
    labelled rows drawn at random (seeded); the errors are measured on the other rows.
It prints one table: median absolute error of theme frequency (points) and theme NPS (points)
over the set's labels, raw and corrected, and the corrected 95% intervals' coverage of the gold
values (frequency and NPS). The ratio reported: corrected over raw error, per set and method.

    python eval/bench/quantification.py [--only maalej] [--labelled 200] [--markdown out.md]

Reads ../shared/datasets (or THEMER_DATASETS); embeddings come from the themer cache.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from eval.bench.accuracy import SETS, LabelledSet, cached_encoder, load, load_labelled
from eval.bench.common import ROOT, write_markdown
from themer.analytics.quantify import error_counts
from themer.evaluation.harness import evaluate_table, scorer_result
from themer.evaluation.quantified import theme_estimate_errors
from themer.nlp.embed import CachedEncoder
from themer.nlp.tagger import DEFAULT_RULES, prototype_scorer
from themer.nlp.training import label_matrix
from themer.schema import SCALES
from themer.taxonomy import load_taxonomy


def _row(spec: LabelledSet, method: str, quant: dict[str, Any], n: int,
         seconds: float) -> dict[str, Any]:
    raw, fixed = quant["raw"], quant["corrected"]
    return {"set": spec.name, "n": n, "method": method,
            "freq_err_raw": raw["freq_error"], "freq_err_corrected": fixed["freq_error"],
            "nps_err_raw": raw["nps_error"], "nps_err_corrected": fixed["nps_error"],
            "freq_coverage": fixed["freq_coverage"], "nps_coverage": fixed["nps_coverage"],
            "raw_nps_coverage": raw["nps_coverage"],
            "nps_err_mixture": quant["mixture"]["nps_error"],
            "mixture_nps_coverage": quant["mixture"]["nps_coverage"],
            "adjusted": quant["adjusted_labels"],
            "labels": len(quant["per_label"]), "seconds": seconds}


def head_cv(spec: LabelledSet, encoder: CachedEncoder) -> dict[str, Any]:
    frame = load(spec)
    started = time.perf_counter()
    report = evaluate_table(
        frame, text_col="text", label_col=spec.label_col, labels_sep=spec.sep, kind=spec.kind,
        taxonomy=load_taxonomy(ROOT / "eval" / "taxonomies" / spec.taxonomy), encoder=encoder,
        source=spec.file, score_col=spec.score_col, scale="stars5", normalize_labels=True,
        cv=5)
    return _row(spec, "head (cv5)", report["quantification"], report["n"],
                time.perf_counter() - started)


def zero_shot(spec: LabelledSet, encoder: CachedEncoder, labelled: int,
              seed: int = 0) -> list[dict[str, Any]]:
    """Zero-shot raw, and zero-shot corrected with rates from ``labelled`` random rows."""
    started = time.perf_counter()
    data = load_labelled(spec.name)
    frame = load(spec)
    # the star of each row load_labelled keeps (label_matrix's kept rows, in file order)
    kept = label_matrix(frame, spec.label_col, spec.sep or "",
                        data.taxonomy.taxonomy.label_ids(spec.kind), spec.file, normalize=True)[2]
    categories = [SCALES["stars5"][int(s)] for s in frame[spec.score_col].iloc[kept]]
    vectors = encoder.encode(data.texts)
    scorer = prototype_scorer(data.taxonomy, spec.kind, encoder)
    multi = bool((data.gold.sum(axis=1) > 1).any())
    rule = DEFAULT_RULES[spec.kind]
    rule = replace(rule, multi_label=rule.multi_label or multi)
    result = scorer_result(scorer, vectors, data.gold, data.labels, rule, data.texts)
    rows = [_row(spec, "zero-shot", theme_estimate_errors(
        data.gold, result.predicted, categories, data.labels, []), len(data.gold),
        time.perf_counter() - started)]
    order = np.random.default_rng(seed).permutation(len(data.gold))
    sample, rest = order[:labelled], np.sort(order[labelled:])
    rates = error_counts(data.gold[sample], result.predicted[sample], data.labels)
    cats = np.asarray(categories)[sample]
    by_group = {label: [error_counts(data.gold[sample][cats == g],
                                     result.predicted[sample][cats == g], data.labels)[label]
                        for g in ("promoter", "passive", "detractor")]
                for label in data.labels}
    quant = theme_estimate_errors(data.gold[rest], result.predicted[rest],
                                  [categories[i] for i in rest], data.labels,
                                  [(np.arange(len(rest)), rates, by_group)])
    rows.append(_row(spec, f"zero-shot + {labelled} labelled", quant, len(rest),
                     time.perf_counter() - started))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="", help="comma-separated set names")
    parser.add_argument("--labelled", type=int, default=200,
                        help="labelled rows that measure zero-shot's error rates")
    parser.add_argument("--markdown", type=Path, help="also write the table as Markdown")
    args = parser.parse_args()
    wanted = set(filter(None, args.only.split(",")))
    encoder = cached_encoder()
    rows: list[dict[str, Any]] = []
    for spec in SETS:
        if spec.score_col is None or (wanted and spec.name not in wanted):
            continue
        rows.append(head_cv(spec, encoder))
        rows += zero_shot(spec, encoder, args.labelled)
        print(f"done {spec.name}", file=sys.stderr, flush=True)
    table = pd.DataFrame(rows)
    numeric = [c for c in table.columns if c not in ("set", "method")]
    table[numeric] = table[numeric].apply(pd.to_numeric)
    shown = table.round({"freq_err_raw": 2, "freq_err_corrected": 2, "nps_err_raw": 1,
                         "nps_err_corrected": 1, "freq_coverage": 2, "nps_coverage": 2,
                         "raw_nps_coverage": 2, "nps_err_mixture": 1,
                         "mixture_nps_coverage": 2, "seconds": 1})
    print(shown.to_string(index=False))
    print("\ncorrected / raw median error (below 1: the correction helps):")
    for r in rows:
        ratios = [f"{name} {r[f'{name}_err_corrected'] / r[f'{name}_err_raw']:.2f}"
                  for name in ("freq", "nps") if r[f"{name}_err_raw"]]
        print(f"  {r['set']}, {r['method']}: {', '.join(ratios)}")
    if args.markdown is not None:
        write_markdown(shown, args.markdown)


if __name__ == "__main__":
    main()
