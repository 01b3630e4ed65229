"""What every command shares: the consoles, the error printer, progress bars, --json output,
and the use-case context built from the settings."""

from __future__ import annotations

import functools
import json
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import typer
from rich.console import Console

if TYPE_CHECKING:
    from themer.usecases.context import Advance, Context

__all__ = ["context", "err", "handle_errors", "out", "progress", "save_json", "signed"]

out = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, soft_wrap=True)  # progress and notes; never break messages mid-path
problems = Console(stderr=True, soft_wrap=True)  # errors: printed even with --quiet
F = TypeVar("F", bound=Callable[..., Any])


def handle_errors(func: F) -> F:
    """User mistakes -> message + exit 2; bugs -> short message + exit 1 (THEMER_DEBUG=1: raise)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from rich.markup import escape

        from themer.errors import ThemerError, render

        # `--json -`: standard output carries only the JSON; the tables go to standard error
        out.file = sys.stderr if str(kwargs.get("json_out")) == "-" else None  # type: ignore[assignment]
        try:
            return func(*args, **kwargs)
        except ThemerError as exc:
            # "[THM330] ... (pip install 'themer[ray]')": brackets are text, not rich markup
            problems.print(f"[bold red]error[/] {escape(render(exc, 'cli'))}", markup=True,
                           highlight=False)
            raise typer.Exit(2) from None
        except (typer.Exit, typer.Abort, KeyboardInterrupt):
            raise
        except Exception as exc:
            if os.environ.get("THEMER_DEBUG"):
                raise
            problems.print(f"internal error: {type(exc).__name__}: {exc} "
                           "(set THEMER_DEBUG=1 for the traceback and report it)",
                           highlight=False)
            raise typer.Exit(1) from None

    return wrapper  # type: ignore[return-value]


def note(message: str) -> None:
    err.print(message, highlight=False)


@contextmanager
def progress(label: str, total: int | None) -> Iterator[Advance]:
    """A progress bar with the time left, on a terminal only (never in pipes or with --quiet)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    bar = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                   TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                   console=err, transient=True, disable=not err.is_terminal or err.quiet)
    with bar:
        task = bar.add_task(label, total=total)
        yield lambda k: bar.advance(task, k)


def context() -> Context:
    """The use-case context of one command: settings from THEMER_*, notes and progress on
    standard error."""
    from themer.config import Settings
    from themer.usecases.context import Context

    return Context(Settings(), notes=note, progress=progress)


def write_json(path: Path, data: Any) -> None:
    from themer.outputs.tag_files import write_json as write

    write(path, data)


def save_json(path: Path | None, payload: dict[str, Any]) -> None:
    """--json output of an analysis command: the payload plus themer's version, atomically;
    ``--json -`` writes it to standard output (the tables then go to standard error)."""
    from themer import __version__

    if path is None:
        return
    data = {**payload, "themer_version": __version__}
    if str(path) == "-":
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        sys.stdout.flush()
        return
    write_json(path, data)
    note(f"wrote {path}")


def signed(value: float | None, spec: str = "+.1f") -> str:
    """A number for a table cell ('-' when missing)."""
    return "-" if value is None else format(value, spec)


def interval(low: float | None, high: float | None, spec: str = "+.0f") -> str:
    return "-" if low is None or high is None else f"{format(low, spec)}..{format(high, spec)}"


def grid(*columns: str, left: tuple[str, ...] = (), title: str | None = None) -> Any:
    """A rich table; ``left`` columns are left-aligned, the others right-aligned."""
    from rich.table import Table

    table = Table(title=title)
    for name in columns:
        table.add_column(name, justify="left" if name in left else "right")
    return table
