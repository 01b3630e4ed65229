"""Setting up: init, version, doctor, models distill."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer

from themer.cli.common import context, grid, handle_errors, out

__all__ = ["register"]


@handle_errors
def init(folder: Annotated[Path, typer.Argument(help="Where to write the files.")] = Path("."),
         force: Annotated[bool, typer.Option("--force", help="Overwrite existing files.")
                          ] = False) -> None:
    """Write a commented taxonomy.yaml, mapping.yaml and roadmap.yaml to start from."""
    from themer.starter import write_starter_files

    folder.mkdir(parents=True, exist_ok=True)
    for path in write_starter_files(folder, overwrite=force):
        out.print(f"wrote {path}", highlight=False)


def version() -> None:
    """Print themer's version."""
    from themer import __version__

    out.print(__version__)


def doctor(json_out: Annotated[Path | None, typer.Option(
        "--json", help="Also write the checks as JSON to this file; '-': to standard output.")
           ] = None) -> None:
    """Check the install: versions, model, spaCy pipeline, taxonomy, store, all offline."""
    from themer import __version__
    from themer.cli.common import save_json

    if str(json_out) == "-":  # standard output carries only the JSON
        out.file = sys.stderr

    settings = context().settings
    table = grid("check", "status", "detail", left=("check", "status", "detail"),
                 title=f"themer {__version__} (offline: HF_HUB_OFFLINE="
                 f"{os.environ.get('HF_HUB_OFFLINE', 'unset')})")
    results: list[dict[str, object]] = []

    def check(name: str, probe: Callable[[], str]) -> None:
        try:
            detail, ok = probe(), True
        except Exception as exc:  # a doctor reports every failure, it does not stop at one
            detail, ok = f"{type(exc).__name__}: {exc}"[:300], False
        results.append({"check": name, "ok": ok, "detail": detail})
        table.add_row(name, "[green]ok[/]" if ok else "[red]failed[/]", detail)

    from themer.runtime.doctor import checks

    for name, probe in checks(settings).items():
        check(name, probe)
    out.print(table)
    save_json(json_out, {"checks": results})
    if not all(r["ok"] for r in results):
        raise typer.Exit(code=1)


models_app = typer.Typer(help="Local models: distil the fast static encoder.")


@models_app.command("distill")
@handle_errors
def models_distill(
        output: Annotated[Path | None, typer.Option(
            "-o", "--output", help="Folder to write (default: the static encoder's folder in "
            "the cache, where THEMER_ENCODER=static looks).")] = None,
        pca_dims: Annotated[int, typer.Option("--pca-dims", min=8, max=384,
                                              help="Dimensions kept.")] = 256) -> None:
    """Distil the static encoder from the shipped MiniLM, offline (THEMER_ENCODER=static)."""
    from themer.cli.common import progress
    from themer.nlp.static_encoder import distill

    settings = context().settings
    target = output or settings.static_model_dir()
    with progress("distilling (every vocabulary token through MiniLM once)", None):
        card = distill(target, source=Path(settings.model) if settings.model else None,
                       pca_dims=pca_dims)
    out.print(f"wrote {target}: {card['dims']} dims, {card['vocabulary_size']} tokens, from "
              f"{card['source_model']} ({card['source_fingerprint']}); use it with "
              "THEMER_ENCODER=static or cascade", highlight=False)


def register(app: typer.Typer) -> None:
    app.command()(init)
    app.command()(version)
    app.command()(doctor)
    app.add_typer(models_app, name="models")
