"""Tagging commands: tag, train, and the eval group (eval, compare, drift)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from themer.cli.common import context, grid, handle_errors, note, out, write_json
from themer.cli.options import (
    EncodingOpt,
    EngineOpt,
    JsonOpt,
    NormalizeOpt,
    RayActorsOpt,
    RayAddressOpt,
    TaxonomyOpt,
    reads_responses,
)

__all__ = ["register"]


@handle_errors
@reads_responses
def tag(inputs: Any, output: Annotated[Path, typer.Option("-o", "--output")],
        engine: EngineOpt = "local", ray_address: RayAddressOpt = None,
        ray_actors: RayActorsOpt = 2,
        shards: Annotated[bool, typer.Option(
            "--shards", help="-o is a folder: one Parquet shard per chunk; a re-run after a "
            "crash tags only the missing chunks.")] = False) -> None:
    """Tag every statement: one row per (statement, tag); 'unassigned' when no tag of a kind."""
    from themer.usecases.tagging import TagRequest
    from themer.usecases.tagging import tag as run

    done = run(context(), TagRequest(inputs, output, engine=engine, ray_address=ray_address,
                                     ray_actors=ray_actors, shards=shards))
    if shards:
        note(f"{done['shards']} shard(s) in {output} ({done['written']} written now)")
    else:
        note(f"wrote {done['tag_rows']} tag rows for {done['responses']} responses to {output}")


@handle_errors
def train(labelled: Path, output: Annotated[Path, typer.Option("-o", "--output")],
          text_col: Annotated[str, typer.Option("--text-col")],
          label_col: Annotated[str, typer.Option("--label-col")],
          label_kind: Annotated[str, typer.Option("--label-kind", help="areas or types")],
          labels_sep: Annotated[str, typer.Option("--labels-sep")] = ";",
          taxonomy: TaxonomyOpt = None, encoding: EncodingOpt = "utf-8-sig",
          threshold: Annotated[float | None, typer.Option("--threshold")] = None,
          normalize_labels: NormalizeOpt = False,
          score_col: Annotated[str | None, typer.Option(
              "--score-col", help="Score column: the head also measures its error rates per "
              "NPS group, so theme NPS can be corrected too.")] = None,
          scale: Annotated[str, typer.Option("--scale", help="nps (0-10) or stars5.")] = "nps"
          ) -> None:
    """Fit a calibrated head on frozen embeddings + the words (TF-IDF); arrays + JSON under -o."""
    from themer.usecases.tagging import TrainRequest
    from themer.usecases.tagging import train as run

    meta = run(context(), TrainRequest(labelled, output, text_col, label_col, label_kind,
                                       labels_sep=labels_sep, taxonomy=taxonomy,
                                       encoding=encoding, threshold=threshold,
                                       normalize_labels=normalize_labels,
                                       score_col=score_col, scale=scale))
    metrics = meta["metrics"]
    out.print(f"trained {meta['label_kind']} head on {meta['n_train']} rows, "
              f"{len(meta['labels'])} labels; out-of-fold macro-F1 {metrics['macro_f1']:.3f}, "
              f"micro-F1 {metrics['micro_f1']:.3f} -> {output}")


eval_app = typer.Typer(help="Measure tags against gold labels; compare runs; tag drift.")


@eval_app.callback(invoke_without_command=True)
@handle_errors
def eval_(ctx: typer.Context,
          data: Annotated[Path | None, typer.Option("--data", help="Labelled CSV/XLSX/JSON.")
                          ] = None,
          text_col: Annotated[str | None, typer.Option("--text-col")] = None,
          label_col: Annotated[str | None, typer.Option("--label-col")] = None,
          label_kind: Annotated[str | None, typer.Option("--label-kind",
                                                         help="areas or types")] = None,
          id_col: Annotated[str | None, typer.Option(
              "--id-col", help="Row id column: each id must be one row (a repeated id is an "
              "error naming the row).")] = None,
          json_out: JsonOpt = None,
          html_out: Annotated[Path | None, typer.Option("--html")] = None,
          labels_sep: Annotated[str | None, typer.Option("--labels-sep")] = None,
          taxonomy: TaxonomyOpt = None,
          head: Annotated[Path | None, typer.Option("--head", help="Trained head folder.")] = None,
          cv: Annotated[int | None, typer.Option("--cv", help="Stratified K-fold heads.")] = None,
          split: Annotated[bool, typer.Option("--split", help="Tag statement by statement and "
                                              "give each text the union (as themer tag).")
                           ] = False,
          score_col: Annotated[str | None, typer.Option("--score-col")] = None,
          baselines: Annotated[bool, typer.Option("--baselines", help="With --cv: majority, "
                                                  "TF-IDF + LR, zero-shot.")] = False,
          normalize_labels: NormalizeOpt = False,
          scale: Annotated[str, typer.Option("--scale", help="nps (0-10) or stars5.")] = "nps",
          encoding: EncodingOpt = "utf-8-sig") -> None:
    """Measure tags against gold labels: zero-shot (default), --head DIR or --cv K."""
    from themer.errors import Errors
    from themer.report.render import render_eval_report, write_report
    from themer.usecases.tagging import EvalRequest, evaluate

    if ctx.invoked_subcommand is not None:
        return
    needed = {"--data": data, "--text-col": text_col, "--label-col": label_col,
              "--label-kind": label_kind, "--json": json_out}
    if data is None or text_col is None or label_col is None or label_kind is None or \
            json_out is None:
        missing = ", ".join(flag for flag, value in needed.items() if value is None)
        raise Errors.THM133.error(missing=missing)
    report = evaluate(context(), EvalRequest(
        data, text_col, label_col, label_kind, labels_sep=labels_sep, taxonomy=taxonomy,
        head=head, cv=cv, split=split, score_col=score_col, baselines=baselines,
        normalize_labels=normalize_labels, scale=scale, encoding=encoding, id_col=id_col))
    write_json(json_out, report)
    if html_out is not None:
        write_report(html_out, render_eval_report(report, title=f"themer eval: {data.name}"))
    out.print(f"{report['mode']}: n={report['n']} macro-F1 {report['macro_f1']:.3f} micro-F1 "
              f"{report['micro_f1']:.3f} abstain {report['abstain_rate']:.1%} "
              f"ECE {report['ece']:.3f} -> {json_out}")
    for name, base in report.get("baselines", {}).items():
        out.print(f"  baseline {name}: macro-F1 {base['macro_f1']:.3f} micro-F1 "
                  f"{base['micro_f1']:.3f} ECE {base['ece']:.3f}")


@eval_app.command("compare")
@handle_errors
def eval_compare(a: Path, b: Path, json_out: JsonOpt = None) -> None:
    """B minus A: headline metrics and per-label F1 of two `themer eval` JSONs."""
    from themer.evaluation.compare import compare_reports
    from themer.usecases.discovery import read_json

    diff = compare_reports(read_json(a), read_json(b))
    table = grid("metric", "A", "B", "B - A", left=("metric",),
                 title=f"{diff['modes'][0]} -> {diff['modes'][1]}")
    rows = [(k, v) for k, v in diff["metrics"].items()] + [
        (f"F1 {label}", v["f1"]) for label, v in diff["per_label"].items()]
    for name, v in rows:
        table.add_row(name, *("-" if x is None else f"{x:+.3f}" if i == 2 else f"{x:.3f}"
                              for i, x in enumerate((v["a"], v["b"], v["delta"]))))
    out.print(table)
    for side in ("only_in_a", "only_in_b"):
        if diff[side]:
            out.print(f"labels {side.replace('_', ' ')}: {', '.join(diff[side])}")
    if json_out is not None:
        write_json(json_out, diff)


@eval_app.command("drift")
@handle_errors
@reads_responses
def eval_drift(inputs: Any, json_out: Annotated[Path, typer.Option("--json")],
               from_taxonomy: Annotated[Path | None, typer.Option("--from-taxonomy")] = None,
               to_taxonomy: Annotated[Path | None, typer.Option("--to-taxonomy")] = None,
               from_head: Annotated[list[Path] | None, typer.Option("--from-head")] = None,
               to_head: Annotated[list[Path] | None, typer.Option("--to-head")] = None) -> None:
    """Share of statements whose tags change between two taxonomy versions or heads."""
    from themer.usecases.tagging import drift

    found = drift(context(), inputs, (from_taxonomy, from_head), (to_taxonomy, to_head))
    write_json(json_out, found)
    for kind, info in found["kinds"].items():
        out.print(f"{kind}: {info['changed']} of {found['statements']} statements changed tags "
                  f"({info['changed_share']:.1%})")


def register(app: typer.Typer) -> None:
    app.command()(tag)
    app.command()(train)
    app.add_typer(eval_app, name="eval")
