"""MkDocs hook: replace ``<!-- cli-reference -->`` with the reference of every ``themer`` command.

The text is generated from the typer app at build time (``typer.main.get_command(themer.cli.app)``),
so the reference cannot drift from the code. It reads the command tree by duck typing (``commands``,
``params``, ``get_help_record``): the same code serves click and the click copy that typer vendors.
"""

from __future__ import annotations

import html
import inspect
import re
from typing import Any

MARKER = "<!-- cli-reference -->"
_LIST = re.compile(r"<list\[(\w+)\]>")


def _cell(text: str) -> str:
    """Text safe inside a Markdown table cell."""
    return html.escape(" ".join(text.split()), quote=False).replace("|", "\\|")


def _help(command: Any) -> str:
    return inspect.cleandoc(command.help or "").replace("\b\n", "")


def _params_table(command: Any, ctx: Any) -> list[str]:
    rows = []
    for param in command.params:
        record = getattr(param, "get_help_record", None)
        shown = record(ctx) if record is not None else None
        if param.param_type_name == "argument":
            name = (shown[0] if shown else param.name or "").upper().split(" ")[0]
            extra = shown[1] if shown else ""
            rows.append(f"| `{name}` (argument) | {_cell(extra)} |")
        elif shown is not None:  # hidden options have no help record
            names, text = shown
            repeat = _LIST.search(names)
            if repeat:  # typer writes a repeatable option's metavar as <list[str]>
                names = _LIST.sub(f"<{repeat.group(1)}>", names)
                text = f"Repeatable. {text}"
            rows.append(f"| `{names}` | {_cell(text)} |")
    if not rows:
        return []
    return ["| argument / option | what it does |", "|---|---|", *rows, ""]


def _usage(command: Any, path: str) -> str:
    pieces = [path, "[OPTIONS]"]
    for param in command.params:
        if param.param_type_name == "argument":
            name = (param.metavar or param.name or "").upper()
            pieces.append(f"{name}..." if param.nargs == -1 else name)
    if getattr(command, "commands", None):
        pieces.append("COMMAND [ARGS]...")
    return " ".join(pieces)


def _command_docs(command: Any, ctx: Any, level: int) -> list[str]:
    path = ctx.command_path
    lines = [f"{'#' * level} `{path}`", ""]
    text = _help(command)
    if text:
        lines += [text, ""]
    lines += ["```text", _usage(command, path), "```", ""]
    lines += _params_table(command, ctx)
    for name in sorted(getattr(command, "commands", {}) or {}):
        sub = command.commands[name]
        if getattr(sub, "hidden", False):
            continue
        sub_ctx = sub.context_class(sub, info_name=name, parent=ctx)
        lines += _command_docs(sub, sub_ctx, min(level + 1, 4))
    return lines


def cli_reference() -> str:
    """Markdown for the whole ``themer`` command tree, commands in alphabetical order."""
    import typer

    import themer.cli

    root = typer.main.get_command(themer.cli.app)
    ctx = root.context_class(root, info_name="themer")
    commands = [(name, root.commands[name]) for name in sorted(root.commands)
                if not getattr(root.commands[name], "hidden", False)]
    lines = ["| command | what it does |", "|---|---|"]
    for path, command in _walk(commands):
        anchor = "-".join(path.split())
        first = _help(command).split("\n", 1)[0]
        lines.append(f"| [`{path}`](#{anchor}) | {_cell(first)} |")
    lines += ["", "## Global options", "", *_params_table(root, ctx)]
    for name, command in commands:
        sub_ctx = command.context_class(command, info_name=name, parent=ctx)
        lines += _command_docs(command, sub_ctx, 2)
    return "\n".join(lines)


def _walk(commands: list[tuple[str, Any]], prefix: str = "themer") -> list[tuple[str, Any]]:
    """(command path, command) of every command and subcommand, depth first."""
    found = []
    for name, command in commands:
        path = f"{prefix} {name}"
        found.append((path, command))
        subs = getattr(command, "commands", None) or {}
        shown = [(n, subs[n]) for n in sorted(subs) if not getattr(subs[n], "hidden", False)]
        found += _walk(shown, path)
    return found


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, cli_reference())
