"""Load and validate ``taxonomy.yaml``: product areas (multi-label), theme types (one each)."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from themer.errors import Errors

__all__ = [
    "REQUIRED_TYPES",
    "STARTER_TAXONOMY",
    "Label",
    "LabelKind",
    "Taxonomy",
    "TaxonomyInfo",
    "load_taxonomy",
    "parse_taxonomy",
    "resolve_taxonomy",
    "starter_taxonomy",
]

LabelKind = Literal["area", "type"]
REQUIRED_TYPES = (
    "feature_request",
    "bug",
    "ux_friction",
    "misaligned_expectation",
    "preference",
    "praise",
    "other",
)
_ID_PATTERN = r"^[a-z][a-z0-9_]*$"
NAME_TEMPLATE = "This comment is about {name}."
# A generic SaaS taxonomy shipped with themer: used when no taxonomy.yaml is found, and the
# file `themer init` writes (commented). Not tuned to the repository's synthetic example.
STARTER_TAXONOMY: Traversable = resources.files("themer") / "data" / "starter_taxonomy.yaml"
STARTER_SOURCE = "themer's starter taxonomy"


class Label(BaseModel):
    """One area or type: an id, a description and seed phrases for zero-shot prototypes."""

    model_config = ConfigDict(extra="allow", frozen=True)

    id: str = Field(pattern=_ID_PATTERN, max_length=64)
    name: str | None = None
    description: str = Field(min_length=3, max_length=2000)
    examples: list[str] = Field(default_factory=list, max_length=200)
    # Look-alikes that are NOT this label ("great app" for an `api` area): negative prototypes.
    counter_examples: list[str] = Field(default_factory=list, max_length=200)
    owner: str | None = None
    parent: str | None = None
    threshold: float | None = Field(default=None, ge=-1.0, le=1.0)

    @field_validator("examples", "counter_examples")
    @classmethod
    def _examples_not_blank(cls, value: list[str]) -> list[str]:
        for i, example in enumerate(value):
            if not example.strip():
                raise ValueError(f"example {i} is blank")
        return value

    @property
    def display_name(self) -> str:
        return self.name or self.id.replace("_", " ").capitalize()

    def prototype_texts(self) -> list[str]:
        """Texts whose embeddings form this label's zero-shot prototype."""
        return [self.description, *self.examples]

    def name_text(self) -> str:
        """The label's name in the zero-shot template (a third prototype signal)."""
        return NAME_TEMPLATE.format(name=self.display_name.lower())


class Taxonomy(BaseModel):
    """The label sets; ``version`` is bumped by hand on every edit, ``content_hash`` by themer."""

    model_config = ConfigDict(extra="allow", frozen=True)

    version: int = Field(ge=1)
    name: str | None = None
    areas: list[Label] = Field(min_length=1, max_length=500)
    types: list[Label] = Field(min_length=1, max_length=50)
    # Statements about no area in particular ("great app", "love it"): a counter-example of
    # every area, so generic praise is unassigned instead of landing on the nearest area.
    generic_examples: list[str] = Field(default_factory=list, max_length=200)

    @model_validator(mode="after")
    def _check_ids(self) -> Taxonomy:
        for kind, labels in (("areas", self.areas), ("types", self.types)):
            seen: set[str] = set()
            for label in labels:
                if label.id in seen:
                    raise ValueError(f"duplicate id '{label.id}' in {kind}")
                seen.add(label.id)
                if label.id == "unassigned":
                    raise ValueError(f"'unassigned' is reserved and cannot be an id in {kind}")
            for label in labels:
                if label.parent is not None and label.parent not in seen:
                    raise ValueError(f"{kind} '{label.id}' has unknown parent '{label.parent}'")
        return self

    def labels(self, kind: LabelKind) -> list[Label]:
        return self.areas if kind == "area" else self.types

    def label_ids(self, kind: LabelKind) -> list[str]:
        return [label.id for label in self.labels(kind)]

    def counter_texts(self, label: Label, kind: LabelKind) -> list[str]:
        """A label's negative prototypes: its counter-examples (+ the generic ones, areas)."""
        return [*label.counter_examples, *(self.generic_examples if kind == "area" else [])]


@dataclass(frozen=True)
class TaxonomyInfo:
    """A validated taxonomy with where it came from and the hash of its content."""

    taxonomy: Taxonomy
    source: str
    content_hash: str

    @property
    def version(self) -> int:
        return self.taxonomy.version


def _line_of(node: yaml.Node | None, loc: Sequence[int | str]) -> int | None:
    """1-based line of the YAML node at a pydantic error location (best effort)."""
    line = node.start_mark.line + 1 if node is not None else None
    for key in loc:
        if isinstance(node, yaml.MappingNode):
            match = [v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == key]
            if not match:
                return line
            node = match[0]
        elif isinstance(node, yaml.SequenceNode) and isinstance(key, int) and key < len(node.value):
            node = node.value[key]
        else:
            return line
        line = node.start_mark.line + 1
    return line


def parse_taxonomy(text: str, source: str = "<string>") -> TaxonomyInfo:
    """Validate taxonomy YAML text; errors name the source, the key path and the line."""
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise Errors.THM201.error(source=source, where=where,
                                  problem=getattr(exc, "problem", exc)) from None
    if not isinstance(data, dict):
        raise Errors.THM202.error(source=source)
    try:
        taxonomy = Taxonomy.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = [part for part in first["loc"] if isinstance(part, int | str)]
        key = ".".join(str(part) for part in loc) or "(top level)"
        line = _line_of(node, loc)
        where = f" line {line}" if line is not None else ""
        more = f" (and {exc.error_count() - 1} more problems)" if exc.error_count() > 1 else ""
        raise Errors.THM203.error(source=source, where=where, key=key, problem=first["msg"],
                                  more=more) from None
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return TaxonomyInfo(taxonomy=taxonomy, source=source, content_hash=digest)


def load_taxonomy(path: str | Path) -> TaxonomyInfo:
    """Read and validate a taxonomy file."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise Errors.THM204.error(path=path) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise Errors.THM205.error(path=path, reason=exc) from None
    return parse_taxonomy(text, source=str(path))


def starter_taxonomy() -> TaxonomyInfo:
    """The taxonomy shipped with themer (``STARTER_TAXONOMY``)."""
    return parse_taxonomy(STARTER_TAXONOMY.read_text(encoding="utf-8"), source=STARTER_SOURCE)


def resolve_taxonomy(path: Path | None, default: Path) -> tuple[TaxonomyInfo, str | None]:
    """The taxonomy to use and a note for the user (None when there is nothing to say).

    ``path``: one the user named (it must exist); else ``default`` if that file exists; else
    the starter taxonomy, with a note saying so."""
    if path is not None:
        return load_taxonomy(path), None
    if default.exists():
        return load_taxonomy(default), None
    return starter_taxonomy(), (f"no {default} here: using {STARTER_SOURCE} "
                                "(themer init writes one to edit)")
