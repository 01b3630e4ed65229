"""Theme commands: themes, impact, priorities, validate."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer

from themer.cli.common import (
    context,
    grid,
    handle_errors,
    interval,
    out,
    save_json,
    signed,
)
from themer.cli.options import JsonOpt, KindOpt, MinNOpt, reads_responses
from themer.cli.views import print_theme_table

__all__ = ["register"]


@handle_errors
@reads_responses
def themes(inputs: Any, json_out: JsonOpt = None,
           report: Annotated[Path | None, typer.Option("--report", help="Write HTML.")] = None,
           discovery: Annotated[Path | None, typer.Option(
               "--discovery", help="A `themer discover --json` file: its candidates go in "
               "the report.")] = None,
           min_n: MinNOpt = None,
           limit: Annotated[int, typer.Option("--limit", help="Rows printed.")] = 40,
           raw: Annotated[bool, typer.Option(
               "--raw", help="Hard-tag counts instead of the frequency and NPS corrected for "
               "the tagger's measured error rates.")] = False) -> None:
    """Print the per-theme NPS table (worst first); optionally write JSON and an HTML report.

    Frequency and NPS are corrected for tagging error where a trained head measured its error
    rates (adjusted counts, per NPS group where the head measured them; bootstrap intervals);
    --raw counts tags."""
    from themer.usecases.themes import ThemesRequest
    from themer.usecases.themes import themes as run

    ctx = context()
    payload, data = run(ctx, ThemesRequest(inputs, min_n=min_n, text=report is not None,
                                           raw=raw))
    print_theme_table(payload, limit)
    print_quantification(payload)
    save_json(json_out, payload)
    if report is not None:
        from themer.cli.views import write_report_files
        from themer.usecases.report import ReportRequest
        from themer.usecases.report import report as build

        built = build(ctx, ReportRequest(inputs, discovery=discovery, min_n=min_n, raw=raw),
                      data)
        write_report_files(built.html, report, None)


def print_quantification(payload: dict[str, Any]) -> None:
    """How the frequency and NPS columns were computed, per kind."""
    for kind in ("area", "type"):
        how = payload["quantification"][kind]
        shown = ("corrected for tagging error" if how["estimate"] == "adjusted"
                 else "raw hard-tag counts")
        out.print(f"{kind} rows: {shown} ({how['note']})", highlight=False)
    out.print("area x type rows: raw (no sound estimator for pairs); --raw shows raw counts "
              "everywhere", highlight=False)


@handle_errors
@reads_responses
def impact(inputs: Any, kind: KindOpt = "area", min_n: MinNOpt = None,
           json_out: JsonOpt = None) -> None:
    """Theme impact three ways: leave-one-out, Shapley (overlap-aware) and regression."""
    from themer.usecases.themes import ImpactRequest
    from themer.usecases.themes import impact as run

    payload = run(context(), ImpactRequest(inputs, kind=kind, min_n=min_n))
    shapley, regression = payload["shapley"], payload["regression"]
    out.print(f"[bold]{payload['survey_type']}[/]: NPS {payload['nps']:+.1f}, n={payload['n']}. "
              f"Shapley contributions add up to NPS minus the NPS of respondents naming no "
              f"{payload['kind']} ({shapley['baseline_nps']:+.1f}) = {shapley['total']:+.1f}; "
              f"regression contributions add up to NPS minus its intercept "
              f"({regression['intercept_nps']:+.1f}) = {regression['total']:+.1f}.")
    table = grid("theme", "n", "freq %", "NPS", "leave-one-out", "Shapley", "regression",
                 "effect 95% CI", left=("theme",))
    by_theme = {r["theme"]: r for r in regression["themes"]}
    for t in shapley["themes"]:
        name = str(t["theme"])
        loo, reg = payload["leave_one_out"].get(name), by_theme.get(name)
        table.add_row(name, str(t["n"]),
                      f"{100 * payload['frequency'][name]:.1f}" if loo is not None else "-",
                      signed(payload["theme_nps"].get(name)), signed(loo, "+.2f"),
                      f"{t['contribution']:+.2f}",
                      signed(reg["contribution"], "+.2f") if reg else "-",
                      interval(reg["effect_ci_low"], reg["effect_ci_high"]) if reg else "-")
    out.print(table)
    if regression["merged"] or regression["left_out"]:
        out.print(f"regression: always named together (one term): "
                  f"{regression['merged'] or '-'}; not estimable: {regression['left_out'] or '-'}")
    save_json(json_out, payload)


@handle_errors
@reads_responses
def priorities(inputs: Any, roadmap: Annotated[Path | None, typer.Option(
                   "--roadmap", help="YAML with planned themes and effort sizes (S/M/L/XL).")
               ] = None,
               recovery_question: Annotated[str | None, typer.Option(
                   "--recovery-question", help="The 'what would it take' text column "
                   "(default: improve, when present).")] = None,
               edge_share: Annotated[float, typer.Option(
                   "--edge-share", help="Below this share of respondents: edge case.")] = 0.05,
               impact_cut: Annotated[float | None, typer.Option(
                   "--impact-cut", help="Points at stake that count as high impact "
                   "(default: the median theme).")] = None,
               min_n: MinNOpt = None, json_out: JsonOpt = None) -> None:
    """One ranked list for a roadmap review: impact x effort, urgency, squeaky-wheel flags."""
    from themer.usecases.themes import PrioritiesRequest
    from themer.usecases.themes import priorities as run

    payload = run(context(), PrioritiesRequest(
        inputs, roadmap=roadmap, recovery_question=recovery_question, edge_share=edge_share,
        impact_cut=impact_cut, min_n=min_n))
    question = payload.get("recovery_question")
    out.print(f"[bold]{payload['survey_type']}[/]: NPS {payload['overall_nps']:+.1f}, "
              f"n={payload['n']}; recovery path from "
              f"{question or '(no what-would-it-take question)'}")
    table = grid("#", "theme", "route", "quadrant", "at stake", "effort", "urgency", "flags",
                 left=("theme", "route", "quadrant", "effort", "urgency", "flags"))
    for p in payload["priorities"]:
        table.add_row(str(p["rank"]), p["theme"], p["route"], p["quadrant"],
                      f"{p['impact']:.1f}", p["effort"] or "?", p["urgency"],
                      ", ".join(p["flags"]))
    out.print(table)
    for p in payload["priorities"]:
        out.print(f"{p['rank']}. {p['theme']}: {p['reason']}", highlight=False)
    save_json(json_out, payload)


@handle_errors
@reads_responses
def validate(inputs: Any,
             launch: Annotated[str | None, typer.Option(
                 "--launch", help="Launch date YYYY-MM-DD: NPS before vs after (--where: the "
                 "respondents it concerns; the fix checks read everyone).")] = None,
             fix: Annotated[str | None, typer.Option(
                 "--fix", help="Fix date YYYY-MM-DD: theme share of comments before vs after.")
             ] = None,
             theme: Annotated[str | None, typer.Option("--theme", help="Theme the fix is for.")
                              ] = None,
             among: Annotated[str, typer.Option(
                 "--among", help="detractor, passive, promoter or all.")] = "detractor",
             roadmap: Annotated[Path | None, typer.Option(
                 "--roadmap", help="Check every launch and fix listed in this roadmap YAML.")
             ] = None,
             window_days: Annotated[int | None, typer.Option(
                 "--window-days", help="Days each side of the date, for every check (default: "
                 "the roadmap's, else launches 30 and fixes all data).")] = None,
             kind: KindOpt = "area", min_n: MinNOpt = None, json_out: JsonOpt = None) -> None:
    """Launch validation (NPS before/after) and fix validation (theme share before/after)."""
    from themer.usecases.themes import ValidateRequest
    from themer.usecases.themes import validate as run

    payload = run(context(), ValidateRequest(
        inputs, launch=launch, fix=fix, theme=theme, among=among, roadmap=roadmap,
        window_days=window_days, kind=kind, min_n=min_n))
    for check in payload["launches"]:
        scope = ", ".join(f"{c}={v}" for c, v in check["where"].items()) or "everyone"
        out.print(f"[bold]{check['name']}[/] ({scope}, {check['window_days']} days each side): "
                  f"NPS {signed(check['nps_before'])} (n={check['n_before']}) -> "
                  f"{signed(check['nps_after'])} (n={check['n_after']}), change "
                  f"{signed(check['change'])} [{signed(check['change_ci_low'], '+.0f')}.."
                  f"{signed(check['change_ci_high'], '+.0f')}], p "
                  f"{signed(check['p_value'], '.3g')}"
                  + (" (small n: not tested)" if check["small_n"] else ""))
    for result in payload["fixes"]:
        def pct(value: float | None) -> str:
            return "-" if value is None else f"{100 * value:.1f}%"

        out.print(f"[bold]{result['name']}[/] ({result['theme']}, {among} comments): "
                  f"{pct(result['share_before'])} ({result['mentions_before']}/"
                  f"{result['comments_before']}) -> {pct(result['share_after'])} "
                  f"({result['mentions_after']}/{result['comments_after']}), p "
                  f"{signed(result['p_value'], '.3g')}"
                  + (" (small n: not tested)" if result["small_n"] else ""))
    save_json(json_out, payload)


def register(app: typer.Typer) -> None:
    for command in (themes, impact, priorities, validate):
        app.command()(command)
