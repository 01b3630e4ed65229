"""MkDocs hook: replace ``<!-- include: PATH -->`` with the Markdown file at PATH.

PATH is relative to the folder of ``mkdocs.yml`` (the repository root). The file's first line is
dropped when it is a level-1 title, so the included headings sit under the page's own title. Used
to show ``eval/README.md`` on the site without copying its tables (they cannot drift apart).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_MARKER = re.compile(r"<!--\s*include:\s*(?P<path>[^\s>]+)\s*-->")


def _included(root: Path, relative: str) -> str:
    path = root / relative
    if not path.is_file():
        raise FileNotFoundError(f"{path}: file named by '<!-- include: {relative} -->' is missing")
    lines = path.read_text(encoding="utf-8").splitlines()
    if lines and lines[0].startswith("# "):
        lines = lines[1:]
    return "\n".join(lines)


def on_page_markdown(markdown: str, page: Any, config: Any, **kwargs: Any) -> str:
    root = Path(config.config_file_path).parent
    return _MARKER.sub(lambda m: _included(root, m.group("path")), markdown)
