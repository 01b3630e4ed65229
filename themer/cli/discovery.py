"""Discovery commands: discover, promote, decide."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from themer.cli.common import context, grid, handle_errors, interval, out, save_json
from themer.cli.options import DecisionsOpt, JsonOpt, TaxonomyOpt, reads_responses

__all__ = ["register"]


@handle_errors
@reads_responses
def discover(inputs: Any,
             all_statements: Annotated[bool, typer.Option(
                 "--all", help="Cluster every statement, not only those no area captured.")
             ] = False,
             category: Annotated[list[str] | None, typer.Option(
                 "--category", help="Only promoter / passive / detractor respondents; repeat.")
             ] = None,
             min_cluster_size: Annotated[int | None, typer.Option(
                 "--min-cluster-size", min=2, max=100_000,
                 help="Default: 0.4% of the distinct statements, 5..100.")] = None,
             min_samples: Annotated[int | None, typer.Option(
                 "--min-samples", min=1, max=100_000,
                 help="HDBSCAN min_samples (default: half the min cluster size).")] = None,
             components: Annotated[int, typer.Option(
                 "--components", min=2, max=384, help="PCA dimensions before HDBSCAN.")] = 20,
             reassign: Annotated[float, typer.Option(
                 "--reassign", help="Cosine to a cluster's centroid a statement needs to be in "
                 "it: outliers above it are joined, members below it dropped.")] = 0.35,
             neighbours: Annotated[int, typer.Option(
                 "--neighbours", min=0, max=200,
                 help="Smooth each statement towards its k nearest (0: off).")] = 10,
             max_sample: Annotated[int, typer.Option(
                 "--max-sample", min=100, max=1_000_000,
                 help="Cluster at most this many distinct statements; place the rest with "
                 "the fitted model.")] = 50_000,
             previous: Annotated[Path | None, typer.Option(
                 "--previous", help="An earlier run's --json: keep its ids for continuing "
                 "candidates; the others are new (emerging).")] = None,
             decisions: DecisionsOpt = None, json_out: JsonOpt = None) -> None:
    """Candidate themes the taxonomy lacks: clusters of unassigned statements, with quotes."""
    from themer.discovery.pipeline import DiscoverOptions
    from themer.usecases.discovery import DiscoverRequest
    from themer.usecases.discovery import discover as run

    ctx = context()
    options = DiscoverOptions(min_cluster_size=min_cluster_size, min_samples=min_samples,
                              components=components, reassign=reassign, neighbours=neighbours,
                              max_sample=max_sample)
    found = run(ctx, DiscoverRequest(inputs, all_statements=all_statements,
                                     category=tuple(category or ()), options=options,
                                     previous=previous, decisions=decisions))
    _print_candidates(found, previous)
    if found.get("dismissed"):
        log = decisions or ctx.settings.decisions_file
        out.print(f"{len(found['dismissed'])} candidate(s) hidden by decisions in {log}.",
                  highlight=False)
    save_json(json_out, found)


def _print_candidates(found: dict[str, Any], previous: Path | None) -> None:
    sample = found["clustered_sample"]
    out.print(f"[bold]{found['survey_type']}[/]: {found['n_statements']} statements "
              f"({found['mode']}); outliers {found['outlier_rate']:.0%} before reassignment, "
              f"{found['unclustered_rate']:.0%} after; min cluster size "
              f"{found['min_cluster_size']}"
              + (f"; clustered a sample of {sample} of {found['n_distinct']} distinct "
                 "statements" if sample < found["n_distinct"] else ""))
    table = grid("id", "candidate", "size", "people %", "NPS", "95% CI", "looks like", "quote",
                 "status", left=("id", "candidate", "95% CI", "looks like", "quote", "status"))
    for c in found["candidates"]:
        near = c["nearest_areas"][0] if c["nearest_areas"] else None
        table.add_row(c["id"], c["label"], str(c["size"]), f"{100 * c['share']:.1f}",
                      "-" if c["nps"] is None else f"{c['nps']:+.0f}",
                      interval(c["ci_low"], c["ci_high"]),
                      f"{near['area']} ({near['similarity']:.2f})" if near else "-",
                      c["quotes"][0][:60] if c["quotes"] else "",
                      c["status"] if c["status"] != "tracked"
                      else f"{c['previous_size']} -> {c['size']} ({c['growth']:+d})")
    out.print(table)
    if previous is None:
        return
    for c in found["candidates"]:
        if c["status"] == "new":
            out.print(f"[bold]emerging theme[/]: {c['label']} ({c['id']}): {c['size']} "
                      f"statements, {100 * c['share']:.1f}% of respondents, NPS "
                      f"{'-' if c['nps'] is None else format(c['nps'], '+.0f')}; not in "
                      f"{previous.name}", highlight=False)


@handle_errors
def promote(discovery: Path, candidate: Annotated[str, typer.Argument(help="Candidate id.")],
            area_id: Annotated[str, typer.Option("--id", help="The new area's id.")],
            output: Annotated[Path, typer.Option("-o", "--output",
                                                 help="Where to write the new taxonomy.")],
            name: Annotated[str | None, typer.Option("--name")] = None,
            owner: Annotated[str | None, typer.Option("--owner", help="Owning team.")] = None,
            decided_by: Annotated[str | None, typer.Option("--by", help="Who decided.")] = None,
            decisions: DecisionsOpt = None, taxonomy: TaxonomyOpt = None,
            retag_now: Annotated[bool, typer.Option(
                "--retag", help="Then re-tag the stored history with it (`themer retag`).")
            ] = False) -> None:
    """Promote a discovered candidate to a new area in the next taxonomy version.

    Its quotes become the area's examples and the decision is recorded; `--retag` re-tags the
    store with the new version."""
    from themer.usecases.discovery import PromoteRequest
    from themer.usecases.discovery import promote as run

    done = run(context(), PromoteRequest(discovery, candidate, area_id, output, name=name,
                                         owner=owner, by=decided_by, decisions=decisions,
                                         taxonomy=taxonomy))
    out.print(f"wrote {output}: area '{area_id}' from candidate {candidate} "
              f"({done['label']}); decision logged in {done['log']}."
              + ("" if retag_now else f" Re-tag with `themer retag --taxonomy {output}`."),
              highlight=False)
    if retag_now:
        from themer.cli.operations import retag

        retag(taxonomy=output, wait=True)


@handle_errors
def decide(discovery: Path,
           action: Annotated[str, typer.Argument(help="merge, rename or discard.")],
           candidate: Annotated[str, typer.Argument(help="Candidate id.")],
           into: Annotated[str | None, typer.Option("--into", help="merge: the candidate "
                                                    "that absorbs this one.")] = None,
           label: Annotated[str | None, typer.Option("--label", help="rename: new name.")
                            ] = None,
           decided_by: Annotated[str | None, typer.Option("--by", help="Who decided.")] = None,
           decisions: DecisionsOpt = None) -> None:
    """Merge, rename or discard a discovered candidate (later discover runs apply it).

    Ids are stable across runs with --previous. Promote has its own command."""
    from themer.usecases.discovery import DecideRequest
    from themer.usecases.discovery import decide as run

    done = run(context(), DecideRequest(discovery, action, candidate, into=into, label=label,
                                        by=decided_by, decisions=decisions))
    out.print(f"recorded: {action} {candidate}"
              + (f" into {into}" if into else "") + (f" as '{label}'" if label else "")
              + f" in {done['log']}; `themer discover ... --previous {discovery}` applies it.",
              highlight=False)


def register(app: typer.Typer) -> None:
    for command in (discover, promote, decide):
        app.command()(command)
