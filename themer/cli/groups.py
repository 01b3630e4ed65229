"""Group commands: segments, adoption, behaviour, trends, pmf."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from themer.cli.common import context, grid, handle_errors, interval, note, out, save_json, signed
from themer.cli.options import JsonOpt, KindOpt, MinNOpt, reads_responses

__all__ = ["register"]

CohortFreqOpt = Annotated[str, typer.Option("--cohort-freq", help="month or quarter")]


@handle_errors
@reads_responses
def segments(inputs: Any,
             usage_col: Annotated[str | None, typer.Option(
                 "--usage-col", help="Numeric usage column -> light/medium/heavy tertiles.")
             ] = None,
             cohort_col: Annotated[str | None, typer.Option(
                 "--cohort-col", help="Signup date column -> cohort segment.")] = None,
             cohort_freq: CohortFreqOpt = "quarter", min_n: MinNOpt = None,
             hide_small: Annotated[bool, typer.Option(
                 "--hide-small", help="Leave out groups below --min-n.")] = False,
             drivers: Annotated[bool, typer.Option(
                 "--drivers", help="Themes driving each significant gap (tags the text).")
             ] = False,
             kind: KindOpt = "area", json_out: JsonOpt = None) -> None:
    """NPS by segment, each value against the rest (difference, 95% CI, BH q-value)."""
    from themer.usecases.groups import SegmentsRequest
    from themer.usecases.groups import segments as run

    payload = run(context(), SegmentsRequest(
        inputs, usage_col=usage_col, cohort_col=cohort_col, cohort_freq=cohort_freq,
        min_n=min_n, hide_small=hide_small, drivers=drivers, kind=kind))
    rows = payload["segments"]
    out.print(f"[bold]{payload['survey_type']}[/]: NPS {payload['overall']['nps']:+.1f}, "
              f"n={payload['overall']['n']}; each segment value against the rest, q = "
              f"Benjamini-Hochberg over {sum(r['q_value'] is not None for r in rows)} "
              "comparisons")
    table = grid("segment", "value", "n", "NPS", "95% CI", "vs rest", "95% CI", "q", "",
                 left=("segment", "value", ""))
    for r in rows:
        flag = ("below, significant" if r["significantly_below"] else
                "small n" if r["small_n"] else "")
        table.add_row(r["segment"], r["value"], str(r["n"]), f"{r['nps']:+.1f}",
                      interval(r["ci_low"], r["ci_high"]), signed(r["diff"]),
                      interval(r["diff_ci_low"], r["diff_ci_high"]),
                      signed(r["q_value"], ".3f"), flag)
    out.print(table)
    if payload["suppressed"]:
        out.print(f"{payload['suppressed']} group(s) below n={payload['min_n']} hidden "
                  "(--hide-small).")
    if drivers:
        _print_drivers(payload, rows)
    save_json(json_out, payload)


def _print_drivers(payload: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    below = [r for r in rows if r["significantly_below"]]
    if not below:
        out.print("no segment is significantly below the rest; no gap to explain.")
    for r in below:
        split = payload["drivers"]["segments"][f"{r['segment']}={r['value']}"]
        top = [t for t in split if t["total"] < 0][:3]
        out.print(f"{r['segment']}={r['value']} ({r['diff']:+.1f} vs rest) driven by: "
                  + "; ".join(f"{t['theme']} {t['total']:+.1f} (share {t['share_effect']:+.1f}"
                              f", score {t['score_effect']:+.1f})" for t in top))


@handle_errors
@reads_responses
def adoption(inputs: Any,
             by: Annotated[str | None, typer.Option(
                 "--by", help="Segment for the feature x segment heatmap (needs --segment).")
             ] = None,
             usage_cut: Annotated[float | None, typer.Option(
                 "--usage-cut", help="Usage rate splitting the quadrants (default: median).")
             ] = None,
             nps_cut: Annotated[float | None, typer.Option(
                 "--nps-cut", help="NPS splitting the quadrants (default: overall NPS).")
             ] = None,
             min_n: MinNOpt = None, json_out: JsonOpt = None) -> None:
    """Feature satisfaction gaps (adopters vs not), usage x NPS quadrants, heatmap by segment."""
    from themer.usecases.groups import AdoptionRequest
    from themer.usecases.groups import adoption as run

    payload = run(context(), AdoptionRequest(inputs, by=by, usage_cut=usage_cut,
                                             nps_cut=nps_cut, min_n=min_n))
    gaps = payload["features"]
    out.print(f"[bold]{payload['survey_type']}[/]: n={payload['n']}; gap = NPS(adopters) - "
              f"NPS(non-adopters), q = Benjamini-Hochberg over "
              f"{sum(g['q_value'] is not None for g in gaps)} features")
    table = grid("feature", "usage %", "NPS users", "NPS non-users", "gap", "95% CI", "q",
                 "quadrant", left=("feature", "quadrant"))
    for g in gaps:
        table.add_row(g["feature"], f"{100 * g['usage_rate']:.0f}", signed(g["nps_adopters"]),
                      signed(g["nps_non_adopters"]), signed(g["gap"]),
                      f"{signed(g['gap_ci_low'], '+.0f')}..{signed(g['gap_ci_high'], '+.0f')}",
                      signed(g["q_value"], ".3f"),
                      (g["quadrant"] or "") + (" (small n)" if g["small_n"] else ""))
    out.print(table)
    if "heatmap" in payload:
        import pandas as pd

        heat = payload["heatmap"]
        out.print(f"gap by {by} (points; blank = a side below n={payload['min_n']}):")
        out.print(pd.DataFrame(heat["gap"], index=heat["features"], columns=heat["values"],
                               dtype=float).round(1).to_string(na_rep=""))
    save_json(json_out, payload)


@handle_errors
@reads_responses
def behaviour(inputs: Any, measure: Annotated[list[str] | None, typer.Option(
                  "--measure", help="NAME=COLUMN of a numeric behaviour column; repeat "
                  "(--store: a stored segment NAME).")] = None,
              min_n: MinNOpt = None, json_out: JsonOpt = None) -> None:
    """Promoters vs detractors on behaviour: means, medians, effect size, Mann-Whitney, BH q.

    --feature flags add 'features_adopted' (how many of them each respondent uses)."""
    from themer.usecases.groups import BehaviourRequest
    from themer.usecases.groups import behaviour as run

    payload = run(context(), BehaviourRequest(inputs, measure=tuple(measure or ()),
                                              min_n=min_n))
    out.print(f"[bold]{payload['survey_type']}[/]: promoters vs detractors (passives left "
              "out); effect = rank-biserial, test = Mann-Whitney, q = Benjamini-Hochberg")
    table = grid("measure", "promoters mean", "detractors mean", "median P / D", "effect", "q",
                 "", left=("measure", ""))
    for r in payload["measures"]:
        table.add_row(r["measure"], signed(r["promoters_mean"], ".2f"),
                      signed(r["detractors_mean"], ".2f"),
                      f"{signed(r['promoters_median'], 'g')} / "
                      f"{signed(r['detractors_median'], 'g')}",
                      signed(r["rank_biserial"], "+.2f"), signed(r["q_value"], ".3f"),
                      "small n" if r["small_n"] else "")
    out.print(table)
    for r in payload["measures"]:
        if r["not_numeric"]:
            note(f"{r['measure']}: {r['not_numeric']} cell(s) are not numbers and were left "
                 "out (see the JSON field not_numeric).")
    save_json(json_out, payload)


@handle_errors
@reads_responses
def trends(inputs: Any, period: Annotated[str, typer.Option(
               "--period", help="month or quarter")] = "month",
           themes: Annotated[bool, typer.Option(
               "--themes", help="Theme trends, spikes and what moved NPS (tags the text).")
           ] = False,
           kind: KindOpt = "area",
           window: Annotated[int, typer.Option(
               "--window", help="Periods in a theme's spike band.")] = 6,
           spike_sd: Annotated[float, typer.Option(
               "--spike-sd", help="Spike when share > band mean + this many SD.")] = 2.0,
           min_n: MinNOpt = None, json_out: JsonOpt = None) -> None:
    """NPS per month or quarter with 95% intervals and the change from the period before."""
    from themer.usecases.groups import TrendsRequest
    from themer.usecases.groups import trends as run

    payload = run(context(), TrendsRequest(inputs, period=period, themes=themes, kind=kind,
                                           window=window, spike_sd=spike_sd, min_n=min_n))
    out.print(f"[bold]{payload['survey_type']}[/]: NPS per {period}; change vs the previous "
              f"{period}, q = Benjamini-Hochberg over the changes")
    table = grid(period, "n", "NPS", "95% CI", "change", "95% CI", "q", "", left=(period, ""))
    for r in payload["periods"]:
        table.add_row(r["period"], str(r["n"]), f"{r['nps']:+.1f}",
                      interval(r["ci_low"], r["ci_high"]), signed(r["change"]),
                      interval(r["change_ci_low"], r["change_ci_high"]),
                      signed(r["q_value"], ".3f"), "small n" if r["small_n"] else "")
    out.print(table)
    if themes:
        _print_spikes(payload, period, window, spike_sd)
    save_json(json_out, payload)


def _print_spikes(payload: dict[str, Any], period: str, window: int, spike_sd: float) -> None:
    alerts = payload["themes"]["spikes"]
    floor = payload["themes"]["spike_rule"]["min_n"]
    for alert in (a for a in alerts if a["confirmed"]):
        out.print(f"[bold]spike[/] {alert['period']} {alert['theme']}: "
                  f"{100 * alert['share']:.1f}% of respondents ({alert['mentions']}/"
                  f"{alert['period_n']}) vs {100 * alert['band_mean']:.1f}% +- "
                  f"{100 * alert['band_sd']:.1f} over the previous {alert['history']} "
                  f"{period}s (q {alert['q_value']:.3g})")
    unconfirmed = sum(not a["confirmed"] for a in alerts)
    out.print(f"spike rule: share > mean + {spike_sd:g} SD of the previous {window} "
              f"{period}s, n >= {floor}; {len(alerts) - unconfirmed} confirmed "
              f"(BH q < 0.05), {unconfirmed} more within chance (in --json).")
    changes = payload["themes"]["decomposition"]
    if changes:
        last_period = changes[-1]["period"]
        last = [c for c in changes if c["period"] == last_period]
        top = sorted(last, key=lambda c: abs(c["total"]), reverse=True)[:5]
        out.print(f"{last_period} vs {last[0]['previous']}: NPS {last[0]['change']:+.1f}; "
                  "biggest theme contributions (share + score effect): "
                  + "; ".join(f"{t['theme']} {t['total']:+.1f}" for t in top))


@handle_errors
@reads_responses
def pmf(inputs: Any, cohort_col: Annotated[str | None, typer.Option(
            "--cohort-col", help="Signup date column -> cohorts for the 40% promoter line.")
        ] = None,
        cohort_freq: CohortFreqOpt = "quarter", min_n: MinNOpt = None,
        json_out: JsonOpt = None) -> None:
    """Survey types side by side; promoter share per cohort vs 40%; NPS spread per segment."""
    from themer.usecases.groups import PmfRequest
    from themer.usecases.groups import pmf as run

    payload = run(context(), PmfRequest(inputs, cohort_col=cohort_col, cohort_freq=cohort_freq,
                                        min_n=min_n))
    out.print("survey types, side by side (never averaged): " + "; ".join(
        f"{t['survey_type']} NPS {t['nps']:+.1f} ({t['ci_low']:+.0f}..{t['ci_high']:+.0f}), "
        f"n={t['n']}" for t in payload["survey_types"]))
    if "cohorts" in payload:
        table = grid("cohort", "n", "promoters %", "95% CI (Wilson)", "signal",
                     left=("cohort", "signal"),
                     title=f"{payload['survey_type']}: promoter share per cohort vs the 40% "
                     "line")
        for f in payload["cohorts"]:
            table.add_row(f["cohort"], str(f["n"]), f"{100 * f['promoter_share']:.1f}",
                          f"{100 * f['ci_low']:.0f}..{100 * f['ci_high']:.0f}",
                          f["signal"] + (" (small n)" if f["small_n"] else ""))
        out.print(table)
    for sp in payload["segment_spread"]:
        out.print(f"{sp['segment']}: NPS {sp['nps_min']:+.1f} to {sp['nps_max']:+.1f} over "
                  f"{sp['values']} values, weighted SD {sp['weighted_sd']:.1f} points, "
                  f"chi-square p {sp['chi2_p_value']:.3g}")
    save_json(json_out, payload)


def register(app: typer.Typer) -> None:
    for command in (segments, adoption, behaviour, trends, pmf):
        app.command()(command)
