"""The JSON the analyses answer with: one builder per analysis, shared by the CLI's ``--json``
and the HTTP API, so both return the same document for the same data."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any, Literal

import pandas as pd

from themer.analytics.adoption import adoption_table, gap_matrix
from themer.analytics.priorities import Priority
from themer.analytics.themes import ThemeTable
from themer.analytics.trends import change_decomposition, nps_by_period, spike_alerts, theme_trends

__all__ = ["adoption_payload", "priorities_payload", "records", "trends_payload"]


def records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """A DataFrame as JSON-ready records (NaN -> null, numpy scalars -> Python)."""
    rows: list[dict[str, Any]] = json.loads(frame.to_json(orient="records"))
    return rows


def adoption_payload(responses: pd.DataFrame, *, min_n: int, usage_cut: float | None = None,
                     nps_cut: float | None = None, by: str | None = None) -> dict[str, Any]:
    """Feature gaps and quadrants; with ``by``, the feature x segment heatmap of gaps."""
    gaps = adoption_table(responses, min_n=min_n, usage_cut=usage_cut, nps_cut=nps_cut)
    payload: dict[str, Any] = {"min_n": min_n, "features": [asdict(g) for g in gaps]}
    if by is not None:
        heat, cells = gap_matrix(responses, by, min_n=min_n)
        payload["heatmap"] = {"segment": by, "features": heat.index.tolist(),
                              "values": heat.columns.tolist(),
                              "gap": [[None if pd.isna(v) else float(v) for v in row]
                                      for row in heat.to_numpy()],
                              "cells": [asdict(c) for c in cells]}
    return payload


def trends_payload(responses: pd.DataFrame, period: Literal["month", "quarter"], *, min_n: int,
                   mentions: pd.DataFrame | None = None, kind: str = "area", window: int = 6,
                   spike_sd: float = 2.0) -> dict[str, Any]:
    """NPS per period; with ``mentions``, theme trends, spikes and the change decomposition."""
    payload: dict[str, Any] = {"period": period, "periods": [
        asdict(r) for r in nps_by_period(responses, period, min_n=min_n)]}
    if mentions is not None:
        per_theme = theme_trends(responses, mentions, period, min_n=min_n)
        alerts = spike_alerts(per_theme, window=window, min_history=min(3, window),
                              sds=spike_sd, min_n=min_n)
        payload["themes"] = {"kind": kind, "trends": records(per_theme),
                             "spikes": [asdict(a) for a in alerts],
                             "spike_rule": {"window": window, "sds": spike_sd, "min_n": min_n},
                             "decomposition": records(change_decomposition(responses, mentions,
                                                                           period))}
    return payload


def priorities_payload(table: ThemeTable, ranked: list[Priority], *,
                       recovery_question: str | None, edge_share: float) -> dict[str, Any]:
    return {"overall_nps": table.overall.nps, "n": table.overall.n,
            "recovery_question": recovery_question, "edge_share": edge_share,
            "priorities": [asdict(p) for p in ranked]}
