"""The README and the docs site: commands they show exist, the README stays short, the site builds.

No model is loaded: the typer app is only walked, never invoked.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import typer

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOC_FILES = [README, *sorted((ROOT / "docs").rglob("*.md"))]

INSTALL_AND_RUN = (
    "python3.11 -m venv .venv && .venv/bin/pip install -e . && .venv/bin/themer report "
    "examples/nps_survey.csv --survey-type relationship --roadmap examples/roadmap.yaml "
    "-o report.html --charts charts --json themes.json"
)
TEST_COMMAND = "bash .ci/test"
README_MAX_LINES = 150

_FENCE = re.compile(
    r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})[^\n]*\n(?P<body>.*?)^(?P=indent)(?P=fence)[ \t]*$",
    re.MULTILINE | re.DOTALL)
_INLINE = re.compile(r"(?<!`)`(?P<code>[^`\n]+)`(?!`)")
_ENV_ASSIGNMENT = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*=")
_SEPARATORS = {"|", "||", "&&", ";", "&", "(", ")"}


@dataclass(frozen=True)
class Usage:
    """One ``themer ...`` invocation written in a file."""

    file: str
    line: int
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class CommandSpec:
    """What the typer app accepts: its options, and its subcommands when it is a group."""

    options: frozenset[str]
    subcommands: dict[str, CommandSpec]


def _spec(command: Any) -> CommandSpec:
    options = {"--help"}
    for param in command.params:
        if param.param_type_name == "option":
            options.update(param.opts)
            options.update(param.secondary_opts)
    subs = {name: _spec(sub) for name, sub in (getattr(command, "commands", None) or {}).items()}
    return CommandSpec(frozenset(options), subs)


@pytest.fixture(scope="module")
def cli_spec() -> CommandSpec:
    import themer.cli

    return _spec(typer.main.get_command(themer.cli.app))


def _fenced_blocks(text: str) -> Iterator[tuple[int, str, str]]:
    """(first line number of the body, info string, body) of every fenced code block."""
    for match in _FENCE.finditer(text):
        header = text[match.start():text.index("\n", match.start())]
        info = header.strip().lstrip("`~").strip()
        yield text.count("\n", 0, match.start("body")) + 1, info, match.group("body")


def _fenced_lines(text: str) -> Iterator[tuple[int, str]]:
    """Lines of shell-like fenced blocks, backslash continuations joined: (line number, line)."""
    for first, info, body in _fenced_blocks(text):
        if info.split(" ")[0] not in {"", "bash", "sh", "shell", "console", "text"}:
            continue  # yaml, json, python: no commands to check
        joined, start = "", first
        for offset, raw in enumerate(body.splitlines()):
            line = raw.rstrip()
            if not joined:
                start = first + offset
            if line.endswith("\\"):
                joined += line[:-1] + " "
                continue
            yield start, joined + line
            joined = ""
        if joined:
            yield start, joined


def _inline_spans(text: str) -> Iterator[tuple[int, str]]:
    """Inline code spans outside fenced blocks: (line number, code)."""
    for match in _FENCE.finditer(text):  # blank fenced blocks out, keeping line numbers
        block = match.group(0)
        text = text.replace(block, re.sub(r"[^\n]", " ", block), 1)
    for match in _INLINE.finditer(text):
        yield text.count("\n", 0, match.start()) + 1, match.group("code")


def _code_lines(text: str) -> Iterator[tuple[int, str]]:
    yield from _fenced_lines(text)
    yield from _inline_spans(text)


def _tokens(line: str) -> list[str]:
    """Shell words of a line, up to a comment; quotes are kept, so a quoted ";" is no separator."""
    lexer = shlex.shlex(line.strip().removeprefix("$ "), posix=False, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        words = list(lexer)
    except ValueError:  # unbalanced quotes in prose: split on spaces
        words = line.split()
    comment = next((i for i, word in enumerate(words) if word.startswith("#")), len(words))
    return words[:comment]


def _segments(tokens: list[str]) -> Iterator[list[str]]:
    """Split a command line on pipes, && and ;. A piece after `|` that starts with an option is an
    alternative inside a usage pattern (`[--survey-type T | --pool]`), not a new command."""
    current: list[str] = []
    pending: str | None = None
    for token in tokens:
        if token in _SEPARATORS:
            pending = token
            continue
        if pending is not None:
            if not (pending == "|" and token.lstrip("[").startswith("-")):
                if current:
                    yield current
                current = []
            pending = None
        current.append(token)
    if current:
        yield current


def usages_in(text: str, name: str) -> Iterator[Usage]:
    """Every ``themer`` invocation in the code (fenced blocks and inline spans) of Markdown text."""
    for line_no, line in _code_lines(text):
        for segment in _segments(_tokens(line)):
            while segment and _ENV_ASSIGNMENT.match(segment[0]):
                segment = segment[1:]  # THEMER_ENCODER=static themer tag ...
            if segment and (segment[0] == "themer" or segment[0].endswith("/bin/themer")):
                yield Usage(name, line_no, tuple(segment[1:]))


def usages(path: Path) -> Iterator[Usage]:
    return usages_in(path.read_text(encoding="utf-8"), str(path.relative_to(ROOT)))


def lone_options(path: Path) -> Iterator[tuple[int, str]]:
    """Options named alone in inline code (`--survey-type NAME`): (line number, option)."""
    for line_no, code in _inline_spans(path.read_text(encoding="utf-8")):
        words = _tokens(code)
        if words and words[0].startswith("--"):
            for word in words:
                yield from ((line_no, name) for name in _option_names(word))


def _option_names(token: str) -> list[str]:
    """The option names a token spells: `--json`, `--since/--until`, `[--min-n`, `--where=X`."""
    token = token.strip("[]{}(),.:;")
    if not token.startswith("-") or token in {"-", "--"} or not re.match(r"^--?[A-Za-z]", token):
        return []
    return [part.split("=", 1)[0] for part in token.split("/") if part.startswith("-")]


def problems(usage: Usage, spec: CommandSpec) -> list[str]:
    """What in one usage the CLI does not accept: an unknown command, subcommand or option."""
    where = f"{usage.file}:{usage.line}: themer {' '.join(usage.tokens)}"
    found: list[str] = []
    tokens = list(usage.tokens)
    command, path = spec, ["themer"]
    while tokens and tokens[0].startswith("-"):  # global options: themer --quiet tag ...
        found += [f"{where}\n    unknown option {name!r} of themer"
                  for name in _option_names(tokens.pop(0)) if name not in spec.options]
    while command.subcommands and tokens and not tokens[0].startswith("-"):
        name = tokens.pop(0)
        if name not in command.subcommands:
            found.append(f"{where}\n    unknown command {' '.join([*path, name])!r}")
            return found
        command, path = command.subcommands[name], [*path, name]
    for token in tokens:
        for name in _option_names(token):
            if name not in command.options:
                found.append(f"{where}\n    unknown option {name!r} of {' '.join(path)!r}")
    return found


def test_usage_parser_reads_the_shapes_docs_use() -> None:
    text = (
        "Run `themer --quiet tag a.csv -o t.csv` or `--json`.\n\n"
        "```bash\n"
        "THEMER_ENCODER=static themer themes in.csv \\\n"
        "  --survey-type T | jq .overall  # a comment --not-an-option\n"
        "themer report x.csv [--survey-type T | --pool] && head -1 --bytes r.html\n"
        "themer train l.csv --labels-sep \";\" --label-col L\n"
        "```\n\n"
        "```yaml\nthemer: not a command\n```\n"
    )
    found = {u.line: u.tokens for u in usages_in(text, "probe.md")}
    assert found == {
        1: ("--quiet", "tag", "a.csv", "-o", "t.csv"),
        4: ("themes", "in.csv", "--survey-type", "T"),
        6: ("report", "x.csv", "[--survey-type", "T", "--pool]"),
        7: ("train", "l.csv", "--labels-sep", '";"', "--label-col", "L"),
    }


def test_usage_check_flags_unknown_commands_and_options(cli_spec: CommandSpec) -> None:
    def check(*tokens: str) -> list[str]:
        return problems(Usage("x.md", 1, tokens), cli_spec)

    assert check("tag", "in.csv", "-o", "t.csv", "--survey-type", "a") == []
    assert check("eval", "compare", "a.json", "b.json", "--json", "d.json") == []
    assert check("--quiet", "keys", "create", "--scope", "read") == []
    assert check("retag", "--no-wait") == []
    assert "unknown command 'themer nosuch'" in check("nosuch", "x")[0]
    assert "unknown command 'themer eval nosuch'" in check("eval", "nosuch")[0]
    assert "unknown option '--nosuch' of 'themer tag'" in check("tag", "x", "--nosuch")[0]


def test_documented_commands_and_options_exist(cli_spec: CommandSpec) -> None:
    found = [p for path in DOC_FILES for usage in usages(path) for p in problems(usage, cli_spec)]
    assert not found, "usages the CLI does not accept:\n" + "\n".join(found)


def _all_options(spec: CommandSpec) -> set[str]:
    return set(spec.options).union(*(_all_options(sub) for sub in spec.subcommands.values()))


def test_options_named_alone_exist_in_some_command(cli_spec: CommandSpec) -> None:
    known = _all_options(cli_spec)
    found = [f"{path.relative_to(ROOT)}:{line_no}: {name}" for path in DOC_FILES
             for line_no, name in lone_options(path) if name not in known]
    assert not found, "options no themer command has:\n" + "\n".join(found)


def test_docs_mention_many_commands() -> None:
    """The scan really reads the docs (a broken parser would find nothing and pass)."""
    seen = {u.tokens[0] for path in DOC_FILES for u in usages(path) if u.tokens}
    assert {"report", "import", "tag", "themes", "discover", "eval", "retag"} <= seen


def test_readme_is_short_and_starts_with_the_two_commands() -> None:
    text = README.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= README_MAX_LINES
    blocks = [body.strip() for _, _, body in _fenced_blocks(text)]
    assert blocks[:2] == [INSTALL_AND_RUN, TEST_COMMAND]


def test_readme_links_into_the_docs_resolve() -> None:
    text = README.read_text(encoding="utf-8")
    links = re.findall(r"\]\((?!https?://)([^)#]+)(?:#[^)]*)?\)", text)
    assert any(link.startswith("docs/") for link in links)
    missing = [link for link in links if not (ROOT / link).exists()]
    assert not missing, f"README links to missing files: {missing}"


def test_mkdocs_build_strict(tmp_path: Path) -> None:
    if importlib.util.find_spec("mkdocs") is None or importlib.util.find_spec("material") is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs mkdocs and mkdocs-material (the test extra installs them)")
        pytest.skip("mkdocs / mkdocs-material not installed (pip install -e '.[docs]')")
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
           "NO_MKDOCS_2_WARNING": "1"}  # material's end-of-life banner
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "-f", str(ROOT / "mkdocs.yml"),
         "-d", str(tmp_path / "site")],  # no -q: it hides the warnings that --strict counts
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    cli_page = (tmp_path / "site" / "reference" / "cli" / "index.html").read_text(encoding="utf-8")
    assert "themer report" in cli_page
    assert "<!-- cli-reference -->" not in cli_page
    api_page = (tmp_path / "site" / "reference" / "api" / "index.html").read_text(encoding="utf-8")
    assert "/v1/classify" in api_page
    assert "<!-- api-reference -->" not in api_page
