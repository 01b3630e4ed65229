"""The one input selection every response-reading use case takes, and what it resolves to.

:class:`Inputs` names where the responses come from (an export file, or the store), how the
file's columns map (or a mapping file), which respondents count (survey type or an explicit
pool, ``where`` filters, a date range) and where the tags come from (a ``themer tag`` output,
the store, or tagging now). :func:`load_dataset` turns it into a :class:`Dataset`: validated
responses of one survey group (or an explicit pool), and their tags when asked.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from themer.errors import Errors
from themer.schema import NPS_GROUPS, TAG_KEEP, UNASSIGNED

if TYPE_CHECKING:
    from themer.ingest import LoadResult
    from themer.nlp.tagger import Tagger
    from themer.store.repository import Filters
    from themer.taxonomy import TaxonomyInfo
    from themer.usecases.context import Context

__all__ = ["LAUNCH", "WHERE", "Dataset", "Inputs", "load_dataset", "parse_pairs",
           "resolve_taxonomy", "tag_frame", "taxonomy_text"]

WHERE = "where:"  # segment-spec prefix of the columns ``where`` filters on (dropped after use)
LAUNCH = "launch:"  # prefix of the columns a roadmap launch compares (kept for the check)


def parse_pairs(items: tuple[str, ...] | list[str], what: str) -> dict[str, str]:
    """``KEY=VALUE`` row filters as a dict; ``what`` names them in the error (e.g. 'where')."""
    found: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key or (not value and what != "where"):
            raise Errors.THM161.error(what=what, item=item)
        found[key] = value
    return found


def parse_day(value: str, what: str) -> date:
    """A YYYY-MM-DD option value (``what`` names it in the error)."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise Errors.THM160.error(what=what, value=value) from None


@dataclass(frozen=True)
class Inputs:
    """Where the responses come from and which of them count.

    ``path`` None reads the store (THEMER_DATABASE_URL) and its tags for the active taxonomy
    version; ``where`` then filters on stored segments, ``since``/``until`` on the response
    date. With a file, ``segment`` (NAME=COLUMN) names segment columns, ``feature``
    (NAME=COLUMN) adoption flags, ``where`` (COLUMN=VALUE) filters on any column."""

    path: Path | None = None
    mapping: Path | None = None
    id_col: str | None = None
    score_col: str | None = None
    text_col: tuple[str, ...] = ()
    date_col: str | None = None
    survey_type_col: str | None = None
    segment: tuple[str, ...] = ()
    feature: tuple[str, ...] = ()
    scale: str = "nps"
    lenient: bool = False
    encoding: str = "utf-8-sig"
    survey_type: str | None = None
    pool: bool = False
    where: tuple[str, ...] = ()
    since: str | None = None
    until: str | None = None
    tags: Path | None = None
    taxonomy: Path | None = None
    head: tuple[Path, ...] = ()

    @property
    def label(self) -> str:
        """How results name the input."""
        return str(self.path) if self.path is not None else "themer store"

    def wanted(self) -> dict[str, str]:
        return parse_pairs(self.where, "where")

    def heads(self) -> list[Path] | None:
        return list(self.head) or None


@dataclass
class Dataset:
    """Validated responses of the analysed group, and their tag rows when asked for."""

    responses: pd.DataFrame
    group: str  # the survey type, or "pooled: a, b"
    pooled: bool
    tags: pd.DataFrame | None = None
    taxonomy: TaxonomyInfo | None = None
    classifier: str = "-"  # how the tags were made (for the report's context)
    model_id: str = "-"
    tagger: Tagger | None = None
    everyone: pd.DataFrame | None = None  # every survey type (pmf shows them side by side)
    from_store: bool = False  # read from the store (its roadmap and discovery runs apply)
    stored_tags: pd.DataFrame | None = None  # the store's tag rows, read with the responses

    def header(self) -> dict[str, Any]:
        """The first keys of every analysis payload."""
        return {"survey_type": self.group, "pooled": self.pooled}


def resolve_taxonomy(ctx: Context, path: Path | None) -> TaxonomyInfo:
    """The taxonomy named, else THEMER_TAXONOMY, else ./taxonomy.yaml, else the starter
    taxonomy shipped with themer (with a note saying so)."""
    from themer.taxonomy import resolve_taxonomy as resolve

    info, note = resolve(path or ctx.settings.explicit_taxonomy(), ctx.settings.taxonomy)
    if note:
        ctx.notes(note)
    return info


def taxonomy_text(info: TaxonomyInfo) -> str:
    """The YAML a taxonomy was read from (to store it as a version)."""
    from themer.taxonomy import STARTER_SOURCE, STARTER_TAXONOMY

    source = STARTER_TAXONOMY if info.source == STARTER_SOURCE else Path(info.source)
    return source.read_text(encoding="utf-8")


def _segment_specs(inputs: Inputs, extra: list[str]) -> list[str]:
    specs = [*inputs.segment, *extra]
    for item in inputs.feature:
        name, sep, column = item.partition("=")
        if not sep or not name or not column:
            raise Errors.THM143.error(what="feature", item=item)
        specs.append(f"feature:{name}={column}")
    specs += [f"{WHERE}{column}={column}" for column in inputs.wanted()]
    return specs


def stream_file(ctx: Context, inputs: Inputs, *, extra_segments: list[str] | None = None,
                chunk_rows: int = 50_000, lenient: bool | None = None) -> Iterator[LoadResult]:
    """The file's validated rows chunk by chunk; notes once which profile and columns it uses."""
    from themer.ingest import MAX_PROBLEMS_SHOWN, iter_responses, load_mapping

    assert inputs.path is not None
    specs = _segment_specs(inputs, extra_segments or [])
    strict = not (inputs.lenient if lenient is None else lenient)
    if inputs.mapping is not None:
        parts = iter_responses(inputs.path, load_mapping(inputs.mapping), strict=strict,
                               encoding=inputs.encoding, chunk_rows=chunk_rows)
    else:
        segments = {}
        for item in specs:
            name, sep, column = item.partition("=")
            if not sep or not name or not column:
                raise Errors.THM114.error(item=item)
            segments[name] = column
        parts = iter_responses(
            inputs.path, strict=strict, encoding=inputs.encoding, chunk_rows=chunk_rows,
            id_col=inputs.id_col, score_col=inputs.score_col, text_cols=inputs.text_col,
            date_col=inputs.date_col, survey_type_col=inputs.survey_type_col,
            segments=segments, scale=inputs.scale,
            # segments the user named replace the detected ones; where filters do not
            auto_segments=not [s for s in specs if not s.startswith((WHERE, LAUNCH))])
    shown = 0
    for number, part in enumerate(parts):
        if number == 0:
            m = part.mapping
            ctx.notes(f"profile: {part.profile}; columns: id={m.id} score={m.score} "
                      f"text={m.text} date={m.date} survey_type={m.survey_type} "
                      f"segments={m.segments or '-'} scale={m.scale}")
        for problem in part.problems[:MAX_PROBLEMS_SHOWN - shown]:
            ctx.notes(f"skipped: {problem}")
            shown += 1
        yield part


def _load_file(ctx: Context, inputs: Inputs, extra_segments: list[str]) -> LoadResult:
    from themer.ingest import merge_results

    result = merge_results(list(stream_file(ctx, inputs, extra_segments=extra_segments)))
    if result.problems:
        ctx.notes(f"{len(result.problems)} problem(s); {len(result.responses)} of "
                  f"{result.n_input_rows} rows kept.")
    return result


def only_survey_type(responses: pd.DataFrame, survey_type: str | None,
                     label: str) -> pd.DataFrame:
    """The responses of one survey type (all of them when ``survey_type`` is None)."""
    from themer.analytics.themes import survey_groups

    if survey_type is None:
        return responses
    available = survey_groups(responses)
    if survey_type not in available:
        raise Errors.THM115.error(source=label, survey_type=survey_type, available=available)
    return responses[responses["survey_type"] == survey_type].reset_index(drop=True)


def filter_responses(responses: pd.DataFrame, inputs: Inputs, *,
                     category: tuple[str, ...] = ()) -> pd.DataFrame:
    """The respondents the filters keep (shares and NPS are of these)."""
    keep = pd.Series(True, index=responses.index)
    bad = sorted(set(category) - set(NPS_GROUPS))
    if bad:
        raise Errors.THM173.error(category=bad[0])
    if category:
        keep &= responses["category"].astype(str).isin(category)
    if inputs.path is not None:
        for column, value in inputs.wanted().items():
            keep &= responses[f"segment:{WHERE}{column}"].astype(str) == value
    if inputs.since or inputs.until:
        if "date" not in responses or responses["date"].isna().all():
            raise Errors.THM174.error(source=inputs.label)
        when = pd.to_datetime(responses["date"], errors="coerce")
        if inputs.since:
            keep &= when >= pd.Timestamp(parse_day(inputs.since, "since"))
        if inputs.until:
            keep &= when < pd.Timestamp(parse_day(inputs.until, "until")) + pd.Timedelta(days=1)
    if bool(keep.all()):
        return responses
    chosen = responses[keep].reset_index(drop=True)
    if chosen.empty:
        raise Errors.THM175.error(source=inputs.label)
    return chosen


def survey_group(responses: pd.DataFrame, label: str, pool: bool) -> str:
    """The one survey group analysed; several types need a survey type or an explicit pool."""
    from themer.analytics.themes import survey_groups

    groups = survey_groups(responses)
    if len(groups) > 1 and not pool:
        raise Errors.THM118.error(source=label, types=groups)
    responses.attrs["pooled"] = pool
    return "pooled: " + ", ".join(groups) if pool else next(iter(groups))


def store_filters(inputs: Inputs) -> Filters:
    """The store's filters for the input's survey type, date range and ``where`` pairs."""
    from themer.store.repository import Filters

    return Filters(inputs.survey_type,
                   parse_day(inputs.since, "since") if inputs.since else None,
                   parse_day(inputs.until, "until") if inputs.until else None,
                   tuple(inputs.wanted().items()))


def _store_frames(ctx: Context, inputs: Inputs, *, with_text: bool
                  ) -> tuple[pd.DataFrame, pd.DataFrame, TaxonomyInfo]:
    from themer.taxonomy import parse_taxonomy

    store = ctx.open_store()
    version = store.active_taxonomy()
    if version is None:
        raise Errors.THM182.error()
    responses, tags = store.analysis_frames(store_filters(inputs), version.id,
                                            with_text=with_text)
    if responses.empty:
        raise Errors.THM175.error(source=inputs.label)
    return responses, tags, parse_taxonomy(version.yaml, f"taxonomy v{version.version}")


def load_dataset(ctx: Context, inputs: Inputs, *, extra_segments: list[str] | None = None,
                 tags: bool = False, text: bool = False, all_types: bool = False,
                 category: tuple[str, ...] = (), one_group: bool = True) -> Dataset:
    """Responses (and with ``tags``, their tag rows; ``text`` adds statement and confidence).

    ``all_types`` keeps every survey type in ``everyone`` before choosing the group;
    ``one_group`` False takes every survey type without pooling them (tagging)."""
    if not one_group:
        inputs = replace(inputs, pool=True)
    if inputs.path is None:
        if inputs.tags is not None:
            raise Errors.THM187.error(path=inputs.tags)
        responses, stored, taxonomy = _store_frames(ctx, inputs, with_text=text)
        everyone = responses
        responses = filter_responses(responses, replace(inputs, since=None, until=None),
                                     category=category)
        data = Dataset(responses, survey_group(responses, inputs.label, inputs.pool),
                       inputs.pool, taxonomy=taxonomy, everyone=everyone,
                       classifier="tags from the store", model_id="-", from_store=True,
                       stored_tags=stored)
        if tags:
            attach_tags(ctx, inputs, data, text=text)
        return data
    loaded = _load_file(ctx, inputs, extra_segments or [])
    everyone = loaded.responses
    responses = only_survey_type(everyone, None if all_types else inputs.survey_type,
                                 str(inputs.path))
    responses = filter_responses(responses, inputs, category=category)
    responses = responses.drop(columns=[c for c in responses.columns
                                        if c.startswith(f"segment:{WHERE}")])
    if all_types:
        everyone = responses
        responses = only_survey_type(responses, inputs.survey_type, str(inputs.path))
    data = Dataset(responses, survey_group(responses, str(inputs.path), inputs.pool),
                   inputs.pool, everyone=everyone)
    if tags:
        attach_tags(ctx, inputs, data, text=text)
    return data


def _restrict(tags: pd.DataFrame, responses: pd.DataFrame) -> pd.DataFrame:
    from themer.analytics.themes import positions

    return tags[positions(tags["response_id"], responses["response_id"]) >= 0
                ].reset_index(drop=True)


def attach_tags(ctx: Context, inputs: Inputs, data: Dataset, *, text: bool = False,
                columns: list[str] | None = None) -> None:
    """Tags from the store (stored responses), from ``inputs.tags`` (a ``themer tag`` output),
    else tag the responses now (the embedding cache makes a re-run cheap)."""
    if data.from_store:
        keep = columns or [*TAG_KEEP, *(("statement", "confidence") if text else ())]
        stored = data.stored_tags
        if stored is None or not set(keep) <= set(stored.columns):  # read without the text
            stored = _store_frames(ctx, inputs, with_text=text)[1]
        data.tags = _restrict(stored[[c for c in keep if c in stored.columns]],
                              data.responses)
        return
    data.taxonomy = data.taxonomy or resolve_taxonomy(ctx, inputs.taxonomy)
    if inputs.tags is not None:
        from themer.outputs.tag_files import read_tags

        data.tags = read_tags(inputs.tags, data.responses, keep_text=text)
        data.classifier, data.model_id = f"tags from {inputs.tags}", "-"
        return
    tagger = ctx.tagger(data.taxonomy, inputs.heads())
    wanted = columns or [*TAG_KEEP, *(("statement", "confidence") if text else ())]
    data.tags = tag_frame(ctx, tagger, data.responses, wanted)
    data.tagger = tagger
    data.classifier = f"areas {tagger.sources['area']}, types {tagger.sources['type']}"
    data.model_id = tagger.encoder.model_id


def tag_frame(ctx: Context, tagger: Any, responses: pd.DataFrame,
              columns: list[str] | None = None) -> pd.DataFrame:
    """Tag rows (``columns``, default all) for every response, in memory, with progress."""
    from themer.schema import TAG_COLUMNS

    wanted = columns or TAG_COLUMNS
    parts: list[pd.DataFrame] = []
    run_tags(ctx, tagger, responses, lambda chunk: parts.append(chunk[wanted]))
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame(columns=wanted)


def run_tags(ctx: Context, runner: Any, responses: pd.DataFrame,
             sink: Callable[[pd.DataFrame], None]) -> None:
    """Tag ``responses`` chunk by chunk (a Tagger or the Ray engine), each chunk to ``sink``."""
    with ctx.progress("tagging responses", len(responses)) as advance:
        for chunk in runner.iter_tags(responses, ctx.settings.chunk_size, progress=advance):
            sink(chunk)


def unassigned_statements(tags: pd.DataFrame, everything: bool) -> pd.DataFrame:
    """Distinct statements of the area tags (only the unassigned ones unless ``everything``)."""
    areas = tags[tags["kind"] == "area"]
    chosen = areas if everything else areas[areas["label"] == UNASSIGNED]
    return chosen.drop_duplicates("statement_id")[["response_id", "statement_id", "statement"]]
