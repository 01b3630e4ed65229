"""An analyst's decisions on discovered candidates: promote, merge, rename, discard.

Decisions are records (a JSON-lines log for the CLI, a table in the store for the API), keyed by
candidate id. Because :func:`themer.discovery.cluster.track` keeps ids stable across runs,
applying the
log to each new run keeps a renamed candidate renamed, a discarded one hidden and merged ones
together, until the data says otherwise (an id that no longer appears is simply not touched).

- ``promote`` (``area`` = the new area's id): the candidate becomes an area in the next taxonomy
  version (:func:`promote`), whose re-tag moves its statements out of "unassigned"; until then the
  candidate shows as ``promoted``.
- ``merge`` (``into`` = another candidate): members, size and scores are pooled under ``into``.
- ``rename`` (``label``): the analyst's name replaces the generated one.
- ``discard``: hidden from the candidate list, listed under ``dismissed``.
"""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import UTC, datetime
from itertools import zip_longest
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, Field, ValidationError, model_validator

from themer.discovery.cluster import MAX_QUOTES, Candidate, Discovery, respondent_stats
from themer.errors import Errors
from themer.taxonomy import parse_taxonomy

__all__ = ["Decision", "append_decision", "apply_decisions", "promote", "read_decisions"]

MAX_DECISIONS = 100_000


class Decision(BaseModel):
    action: Literal["promote", "merge", "rename", "discard"]
    candidate: str = Field(min_length=1, max_length=64)
    into: str | None = Field(default=None, max_length=64)
    label: str | None = Field(default=None, min_length=1, max_length=200)
    area: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,63}$")
    by: str | None = Field(default=None, max_length=200)
    at: str = Field(default_factory=lambda: datetime.now(UTC).isoformat())

    @model_validator(mode="after")
    def _needs(self) -> Decision:
        needed = {"merge": "into", "rename": "label", "promote": "area"}.get(self.action)
        if needed and getattr(self, needed) is None:
            raise ValueError(f"'{self.action}' needs '{needed}'")
        if self.action == "merge" and self.into == self.candidate:
            raise ValueError("a candidate cannot be merged into itself")
        return self


def read_decisions(path: Path) -> list[Decision]:
    """The decisions in a JSON-lines log; a bad line is an error naming the file and line."""
    if not path.is_file():
        return []
    found = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if number > MAX_DECISIONS:
                raise Errors.THM171.error(path=path, limit=MAX_DECISIONS)
            if not line.strip():
                continue
            try:
                found.append(Decision.model_validate(json.loads(line)))
            except (json.JSONDecodeError, ValidationError) as exc:
                reason = str(exc).splitlines()[-1 if isinstance(exc, ValidationError) else 0]
                raise Errors.THM172.error(path=path, line=number, reason=reason) from None
    return found


def append_decision(path: Path, decision: Decision) -> None:
    with path.open("a", encoding="utf-8") as handle:
        handle.write(decision.model_dump_json(exclude_none=True) + "\n")


def apply_decisions(discovery: Discovery, decisions: list[Decision],
                    responses_category: dict[str, str], total_respondents: int) -> Discovery:
    """The run as the analyst has curated it (decisions in order; later ones win)."""
    by_id = {c.id: c for c in discovery.candidates}
    order = [c.id for c in discovery.candidates]
    dismissed = list(discovery.dismissed)
    for d in decisions:
        current = by_id.get(d.candidate)
        if current is None:
            continue  # not in this run (yet, or any more)
        if d.action == "rename":
            by_id[d.candidate] = replace(current, label=str(d.label))
        elif d.action == "promote":
            by_id[d.candidate] = replace(current, status="promoted",
                                         hint=f"promoted to area {d.area}")
        elif d.action == "discard":
            dismissed.append({"id": current.id, "label": current.label, "action": "discard",
                              "size": current.size, "by": d.by, "at": d.at})
            del by_id[d.candidate]
        else:
            target = by_id.get(str(d.into))
            dismissed.append({"id": current.id, "label": current.label, "action": "merge",
                              "into": d.into, "size": current.size, "by": d.by, "at": d.at})
            del by_id[d.candidate]
            if target is None:  # the other side is not in this run: this one carries its id
                by_id[str(d.into)] = replace(current, id=str(d.into))
                order.append(str(d.into))
            else:
                by_id[target.id] = _merge(target, current, responses_category,
                                          total_respondents)
    candidates = sorted((by_id[i] for i in dict.fromkeys(order) if i in by_id),
                        key=lambda c: (-c.size, c.id))
    return replace(discovery, candidates=candidates, dismissed=dismissed)


def _merge(keep: Candidate, other: Candidate, category: dict[str, str], total: int
           ) -> Candidate:
    seen = {m["statement_id"] for m in keep.members}
    members = keep.members + [m for m in other.members if m["statement_id"] not in seen]
    quotes = list(dict.fromkeys(q for pair in zip_longest(keep.quotes, other.quotes)
                                for q in pair if q))
    return replace(keep, members=members, size=len(members),
                   keywords=list(dict.fromkeys(keep.keywords + other.keywords))[:8],
                   quotes=quotes[:MAX_QUOTES],
                   **respondent_stats([m["response_id"] for m in members], category, total))


def promote(taxonomy_text: str, candidate: dict[str, Any], area_id: str, *,
            name: str | None = None, owner: str | None = None, source: str = "taxonomy"
            ) -> str:
    """The taxonomy YAML with the candidate added as a new area and the version bumped.

    The new area's description comes from the candidate's label and keywords, its examples
    from its quotes. The text is edited in place (comments and layout kept) and the result is
    validated like any taxonomy, so a clash (an id already used) is an error naming the key.
    """
    if "\ntypes:" not in taxonomy_text or not re.search(r"^version:\s*\d+", taxonomy_text,
                                                          flags=re.MULTILINE):
        raise Errors.THM206.error(source=source)
    keywords = ", ".join(candidate.get("keywords", [])[:6])
    entry = {"id": area_id, "name": name or str(candidate.get("label", area_id)).title(),
             "description": f"Discovered theme '{candidate.get('label', '')}': {keywords}."[:2000],
             "owner": owner, "parent": None,
             "examples": [str(q) for q in candidate.get("quotes", [])][:10]}
    block = yaml.safe_dump([entry], sort_keys=False, allow_unicode=True, width=100)
    indented = "".join(f"  {line}" if line.strip() else line
                       for line in block.splitlines(keepends=True))
    edited = taxonomy_text.replace("\ntypes:", "\n" + indented + "types:", 1)
    edited = re.sub(r"^version:\s*(\d+)", lambda m: f"version: {int(m.group(1)) + 1}", edited,
                    count=1, flags=re.MULTILINE)
    parse_taxonomy(edited, f"{source} + promoted '{area_id}'")
    return edited
