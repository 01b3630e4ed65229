"""``themer`` command line: thin doors onto :mod:`themer.usecases`. Exit codes: 0 ok,
1 internal, 2 user.

One module per command group; each parses its options, calls one use case and renders the
result. Nothing heavy is imported until a command runs, so ``themer --help`` answers at once.
"""

from __future__ import annotations

from typing import Annotated

import typer

from themer.cli import (
    analytics,
    discovery,
    groups,
    labelling,
    operations,
    reporting,
    setup,
    tagging,
)
from themer.cli.common import err

__all__ = ["app", "main"]

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                  help="themer: turn NPS comments into a theme table.")


@app.callback()
def options(quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No progress bars or notes on standard error; errors still "
        "print. For scripts, with --json -.")] = False) -> None:
    """themer: turn NPS comments into a theme table."""
    err.quiet = quiet


for group in (tagging, analytics, groups, reporting, discovery, labelling, operations, setup):
    group.register(app)


def main() -> None:
    app()
