"""Every command that reads responses takes the same input options (declared once)."""

from __future__ import annotations

from typing import Any

import typer

from themer.cli import app
from themer.cli.options import INPUT_OPTIONS

READERS = {"tag", "themes", "report", "segments", "adoption", "behaviour", "trends", "pmf",
           "impact", "priorities", "validate", "discover", "import", "eval drift"}
SHARED = {"--store", "--mapping", "--id-col", "--score-col", "--text-col", "--date-col",
          "--survey-type-col", "--segment", "--feature", "--scale", "--lenient", "--encoding",
          "--survey-type", "--pool", "--where", "--since", "--until", "--tags", "--taxonomy",
          "--head"}


def _commands(group: Any, prefix: str = "") -> dict[str, Any]:
    """Every command and subcommand by its full name (typer ships its own click: duck-typed)."""
    found: dict[str, Any] = {}
    for name, command in group.commands.items():
        full = f"{prefix}{name}"
        found[full] = command
        if hasattr(command, "commands"):
            found.update(_commands(command, f"{full} "))
    return found


def _options(command: Any) -> set[str]:
    return {flag for param in command.params if param.param_type_name == "option"
            for flag in param.opts}


def test_the_shared_options_are_the_declared_ones() -> None:
    declared = {str(annotation.__metadata__[0].default)
                for _, annotation, _ in INPUT_OPTIONS}
    assert declared == SHARED


def test_every_reader_takes_every_input_option() -> None:
    commands = _commands(typer.main.get_command(app))
    assert set(commands) >= READERS, sorted(READERS - set(commands))
    for name in sorted(READERS):
        missing = SHARED - _options(commands[name])
        assert not missing, f"themer {name} lacks {sorted(missing)}"


def test_readers_are_the_commands_with_an_input() -> None:
    """A command with an INPUT argument must be a reader (so the list above cannot rot)."""
    commands = _commands(typer.main.get_command(app))
    with_input = {name for name, command in commands.items()
                  if any(p.param_type_name == "argument" and p.name == "input"
                         for p in command.params)}
    assert with_input == READERS
