"""``themer label``: the labelling loop on the store (THEMER_DATABASE_URL).

    themer label next --k 20             the statements to label next, with suggestions
    themer label export batch.xlsx       ... as a sheet to fill in (XLSX or CSV)
    themer label import batch.xlsx       the filled-in sheet back (checked, then stored)
    themer label train                   re-train the heads and re-tag the store
    themer label status                  labels so far and the last round's accuracy

The labelling page of ``themer serve`` (``/label``) does the same through the API.
"""

from __future__ import annotations

import getpass
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from themer.cli.common import context, grid, handle_errors, note, out, save_json
from themer.cli.options import JsonOpt

__all__ = ["label_app", "register"]

label_app = typer.Typer(help="Label statements in the store, re-train the heads from the "
                        "labels in seconds, and re-tag the store.", no_args_is_help=True)

KOpt = Annotated[int, typer.Option("--k", min=1, max=100,
                                   help="How many statements (1-100).")]
StoreOpt = Annotated[bool, typer.Option(
    "--store", help="The stored statements (THEMER_DATABASE_URL): the only source of the "
    "labelling loop, accepted for symmetry with the analysis commands.")]
ByOpt = Annotated[str | None, typer.Option("--by", help="Who labelled (default: the login "
                                           "name).")]


def _who(by: str | None) -> str:
    if by:
        return by
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "cli"


def _accuracy(head: dict[str, Any] | None) -> str:
    if head is None:
        return "no labels yet"
    a = head["accuracy"]
    return (f"macro-F1 {a['macro_f1']:.2f} (95% {a['ci_low']:.2f}..{a['ci_high']:.2f}, "
            f"{a['n_labels']} labels, {a['folds']} folds)")


@label_app.command("next")
@handle_errors
def next_(k: KOpt = 10, store: StoreOpt = True, json_out: JsonOpt = None) -> None:
    """Show the next statements to label (most informative first) with the current tags."""
    from themer.usecases.labelling import next_batch

    batch = next_batch(context(), k)
    table = grid("statement", "text", "suggested areas", "suggested type",
                 left=("text", "suggested areas", "suggested type"),
                 title=f"next {len(batch['items'])} of {batch['pool']} statements "
                 f"({batch['labelled']} labelled)")
    for item in batch["items"]:
        table.add_row(str(item["statement_id"]), item["text"],
                      ", ".join(item["suggested"]["areas"]) or "-",
                      item["suggested"]["type"] or "-")
    out.print(table)
    save_json(json_out, batch)


@label_app.command("export")
@handle_errors
def export(output: Annotated[Path, typer.Argument(help="The sheet to write (.xlsx or .csv).")],
           k: KOpt = 50, store: StoreOpt = True, json_out: JsonOpt = None) -> None:
    """Write the next statements to label as a sheet: fill in areas, type, new_theme."""
    from themer.usecases.labelling import export_labels

    done = export_labels(context(), output, k)
    out.print(f"wrote {done['rows']} statements to {output}; fill in the areas (ids separated "
              "by ;, or none), type and new_theme columns, then `themer label import` it",
              highlight=False)
    save_json(json_out, done)


@label_app.command("import")
@handle_errors
def import_(sheet: Annotated[Path, typer.Argument(help="A filled-in sheet (.xlsx or .csv).")],
            by: ByOpt = None, store: StoreOpt = True, json_out: JsonOpt = None) -> None:
    """Store the labels of a filled-in sheet (every row checked first; all or nothing)."""
    from themer.usecases.labelling import import_labels

    done = import_labels(context(), sheet, _who(by))
    out.print(f"stored {done['saved']} labels from {sheet} ({done['labels']} labels for "
              f"taxonomy version id {done['taxonomy_version_id']})", highlight=False)
    save_json(json_out, done)


@label_app.command("train")
@handle_errors
def train(store: StoreOpt = True, json_out: JsonOpt = None) -> None:
    """Re-train the heads from the labels (cached vectors) and re-tag the store."""
    from themer.usecases.labelling import train_from_labels

    began = time.perf_counter()
    done = train_from_labels(context())
    for kind in ("area", "type"):
        out.print(f"{kind}: {_accuracy(done['heads'].get(kind))}", highlight=False)
    out.print(f"{done['changed_statements']} of {done['statements']} statements changed tags; "
              f"{done['embedded']} texts embedded", highlight=False)
    note(f"trained and re-tagged in {time.perf_counter() - began:.1f} s")
    save_json(json_out, done)


@label_app.command("status")
@handle_errors
def status(store: StoreOpt = True, json_out: JsonOpt = None) -> None:
    """How many labels the active taxonomy version has, and the last round's accuracy."""
    from themer.usecases.labelling import status as run

    done = run(context())
    out.print(f"taxonomy version {done['version']} (id {done['taxonomy_version_id']}): "
              f"{done['labels']} labels by {done['labellers']} labeller(s), "
              f"{done['none_of_these']} none of these", highlight=False)
    for kind in ("area", "type"):
        head = done["heads"].get(kind)
        out.print(f"{kind} head: " + ("zero-shot (not trained yet)" if head is None else
                                      f"{head['folder']}, {_accuracy(head)}"), highlight=False)
    save_json(json_out, done)


def register(app: typer.Typer) -> None:
    app.add_typer(label_app, name="label")
