"""Options declared once. :func:`reads_responses` gives a command the input options every
response-reading command takes, and hands them to it as one :class:`~themer.usecases.inputs.
Inputs` (``inputs``), so no command can drift from the others."""

from __future__ import annotations

import functools
import inspect
import typing
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["INPUT_OPTIONS", "HeadOpt", "JsonOpt", "KindOpt", "MinNOpt", "TaxonomyOpt",
           "reads_responses"]

JsonOpt = Annotated[Path | None, typer.Option(
    "--json", help="Also write the result as JSON to this file; '-': to standard output.")]
MinNOpt = Annotated[int | None, typer.Option("--min-n", help="Flag groups smaller than this.")]
KindOpt = Annotated[str, typer.Option("--kind", help="Themes: area, type or area_type.")]
TaxonomyOpt = Annotated[Path | None, typer.Option(
    "--taxonomy", help="Taxonomy YAML (default THEMER_TAXONOMY, ./taxonomy.yaml, else the "
    "starter taxonomy).")]
HeadOpt = Annotated[list[Path] | None, typer.Option("--head", help="Trained head folder.")]
EncodingOpt = Annotated[str, typer.Option("--encoding", help="Input text encoding.")]
DecisionsOpt = Annotated[Path | None, typer.Option(
    "--decisions", help="Decision log (JSON lines); default THEMER_DECISIONS_FILE.")]
EngineOpt = Annotated[str, typer.Option(
    "--engine", help="local (this process) or ray (Ray Data actor pool).")]
RayAddressOpt = Annotated[str | None, typer.Option(
    "--ray-address", help="A running Ray cluster (default: start Ray locally).")]
RayActorsOpt = Annotated[int, typer.Option(
    "--ray-actors", min=1, max=10_000, help="Actors (each loads the encoder once).")]
NormalizeOpt = Annotated[bool, typer.Option(
    "--normalize-labels", help="Match gold labels to taxonomy ids case- and punctuation-"
    "insensitively ('APP USABILITY' -> app_usability).")]
_InputArg = Annotated[Path | None, typer.Argument(
    help="Survey export (CSV/TSV/XLSX/JSON/JSONL/Parquet); leave out with --store.",
    show_default=False)]

# (parameter name, annotation, default): the input options, in --help order
INPUT_OPTIONS: list[tuple[str, Any, Any]] = [
    ("store", Annotated[bool, typer.Option(
        "--store", help="Read the stored responses (THEMER_DATABASE_URL) and their tags "
        "instead of a file.")], False),
    ("mapping", Annotated[Path | None, typer.Option(
        "--mapping", help="Column mapping YAML (themer init writes one).")], None),
    ("id_col", Annotated[str | None, typer.Option("--id-col", help="Response id column.")],
     None),
    ("score_col", Annotated[str | None, typer.Option(
        "--score-col", help="Score column (0-10).")], None),
    ("text_col", Annotated[list[str] | None, typer.Option(
        "--text-col", help="Open-text column; repeat.")], None),
    ("date_col", Annotated[str | None, typer.Option(
        "--date-col", help="Response date column.")], None),
    ("survey_type_col", Annotated[str | None, typer.Option(
        "--survey-type-col", help="Survey type column (relationship, transactional, ...).")],
     None),
    ("segment", Annotated[list[str] | None, typer.Option(
        "--segment", help="NAME=COLUMN: a segment column (plan, role, ...); repeat. "
        "Default: found in the file.")], None),
    ("feature", Annotated[list[str] | None, typer.Option(
        "--feature", help="NAME=COLUMN of an adoption flag (1/0, yes/no); repeat (--store: "
        "NAME).")], None),
    ("scale", Annotated[str, typer.Option("--scale", help="nps (0-10) or stars5.")], "nps"),
    ("lenient", Annotated[bool, typer.Option(
        "--lenient", help="Skip bad rows and report them (default: refuse the file).")], False),
    ("encoding", EncodingOpt, "utf-8-sig"),
    ("survey_type", Annotated[str | None, typer.Option(
        "--survey-type", help="Use only this survey type.")], None),
    ("pool", Annotated[bool, typer.Option(
        "--pool", help="Pool all survey types (explicitly).")], False),
    ("where", Annotated[list[str] | None, typer.Option(
        "--where", help="COLUMN=VALUE: only these respondents; repeat (--store: a stored "
        "segment).")], None),
    ("since", Annotated[str | None, typer.Option(
        "--since", help="YYYY-MM-DD: responses on or after (needs a date column).")], None),
    ("until", Annotated[str | None, typer.Option(
        "--until", help="YYYY-MM-DD: responses on or before.")], None),
    ("tags", Annotated[Path | None, typer.Option(
        "--tags", help="Tag rows from `themer tag` (else the input is tagged now).")], None),
    ("taxonomy", TaxonomyOpt, None),
    ("head", HeadOpt, None),
]


def _inputs(path: Path | None, values: dict[str, Any]) -> Any:
    from themer.errors import Errors
    from themer.usecases.inputs import Inputs

    store = values.pop("store")
    if (path is None) == (not store):
        raise Errors.THM194.error(given="both" if store else "none")
    for many in ("text_col", "segment", "feature", "where", "head"):
        values[many] = tuple(values[many] or ())
    return Inputs(path=path, **values)


def reads_responses(func: Callable[..., Any]) -> Callable[..., Any]:
    """Give a command ``input`` (the export, optional with --store) and every input option;
    the command receives them as ``inputs``."""
    hints = typing.get_type_hints(func, include_extras=True)
    own = [p.replace(annotation=hints.get(p.name, p.annotation))
           for p in inspect.signature(func).parameters.values() if p.name != "inputs"]
    names = [name for name, _, _ in INPUT_OPTIONS]

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        values = {name: kwargs.pop(name) for name in names}
        kwargs["inputs"] = _inputs(kwargs.pop("input"), values)
        return func(*args, **kwargs)

    keyword = inspect.Parameter.KEYWORD_ONLY
    shared = [inspect.Parameter(name, keyword, annotation=annotation, default=default)
              for name, annotation, default in INPUT_OPTIONS]
    first = inspect.Parameter("input", inspect.Parameter.POSITIONAL_OR_KEYWORD,
                              annotation=_InputArg, default=None)
    params = [first, *[p.replace(kind=keyword) for p in own], *shared]
    wrapper.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    wrapper.__annotations__ = {p.name: p.annotation for p in params}
    del wrapper.__wrapped__  # typer must read the signature above, not the command's own
    return wrapper
