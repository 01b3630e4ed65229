"""MkDocs hook: replace ``<!-- settings-reference -->`` with the table of ``THEMER_*`` settings.

Generated from ``themer.config.Settings`` at build time (field, default, description), so the
table cannot drift from the code.
"""

from __future__ import annotations

import html
from pathlib import Path
from typing import Any

MARKER = "<!-- settings-reference -->"


def _cell(text: str) -> str:
    return html.escape(" ".join(str(text).split()), quote=False).replace("|", "\\|")


def _default(value: Any) -> str:
    if isinstance(value, Path):
        home = str(Path.home())
        text = str(value)
        return "~" + text[len(home):] if text.startswith(home) else text
    if value is None:
        return "(unset)"
    if value == "":
        return "(empty)"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int) and abs(value) >= 10_000:
        return f"{value:,}"
    return str(value)


def settings_reference() -> str:
    """One Markdown table row per settings field, in the order ``Settings`` declares them."""
    from themer.config import Settings

    prefix = Settings.model_config.get("env_prefix", "")
    lines = ["| variable | default | what it does |", "|---|---|---|"]
    for name, field in Settings.model_fields.items():
        default = field.get_default(call_default_factory=True)
        lines.append(f"| `{prefix}{name.upper()}` | `{_cell(_default(default))}` "
                     f"| {_cell(field.description or '')} |")
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, **kwargs: Any) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, settings_reference())
