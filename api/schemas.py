"""Request bodies and response models: what ``/openapi.json`` says comes in and goes out.

Analysis responses are the use cases' JSON (the same as the CLI's ``--json``): the models name
the fields every client relies on and allow the rest, so a new field never breaks a client.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from themer.store.repository import ResponseIn
from themer.usecases.labelling import MAX_LABELS, LabelItem

Category = Literal["promoter", "passive", "detractor"]


class Open(BaseModel):
    """A response model that names its main fields and passes the others through."""

    model_config = ConfigDict(extra="allow")


# --- requests ---------------------------------------------------------------------------

class Comment(BaseModel):
    id: str | None = Field(default=None, max_length=200, description="Echoed back.")
    text: str = Field(max_length=10_000, examples=["Search is slow, but support was great."])


class ClassifyRequest(BaseModel):
    comments: list[Comment] = Field(min_length=1, max_length=10_000)


class ResponsesRequest(BaseModel):
    responses: list[ResponseIn] = Field(min_length=1, max_length=10_000)


class WebhookRequest(BaseModel):
    url: AnyHttpUrl = Field(examples=["https://hooks.example.com/themer/platform"])
    theme: str | None = Field(default=None, max_length=200, examples=["performance"])
    owner: str | None = Field(default=None, max_length=200, examples=["platform"])
    category: Category | None = Field(default=None, examples=["detractor"])


class DiscoverRequest(BaseModel):
    survey_type: str | None = Field(default=None, max_length=100)
    date_from: date | None = None
    date_to: date | None = None
    segment: list[str] = Field(default_factory=list, max_length=20,
                               description="NAME=VALUE filters", examples=[["plan=enterprise"]])
    categories: list[Category] = Field(default_factory=list, max_length=3,
                                       description="Only these NPS groups (default: all).")
    all: bool = Field(default=False, description="Every statement, not only unassigned ones.")
    min_cluster_size: int | None = Field(default=None, ge=2, le=100_000)
    reassign: float = Field(default=0.35, ge=-1.0, le=1.0,
                            description="Cosine to a centroid a statement needs to be in it.")
    previous_run: str | None = Field(default=None, max_length=36,
                                     description="Track ids against this run (default: the "
                                     "latest one).")


class DecisionRequest(BaseModel):
    action: Literal["promote", "merge", "rename", "discard"]
    candidate: str = Field(min_length=1, max_length=64)
    into: str | None = Field(default=None, max_length=64, description="merge: the survivor.")
    label: str | None = Field(default=None, min_length=1, max_length=200,
                              description="rename: the new name.")
    area: str | None = Field(default=None, pattern=r"^[a-z][a-z0-9_]{0,63}$",
                             description="promote: the new area's id.")
    name: str | None = Field(default=None, max_length=200, description="promote: area name.")
    owner: str | None = Field(default=None, max_length=200, description="promote: team.")
    by: str | None = Field(default=None, max_length=200)


class TaxonomyRequest(BaseModel):
    yaml: str = Field(min_length=10, max_length=1_000_000, description="The taxonomy YAML.")
    author: str | None = Field(default=None, max_length=200)


class RoadmapRequest(BaseModel):
    roadmap: dict[str, Any] = Field(description="effort, planned, launches, fixes (as the "
                                    "roadmap YAML)", examples=[{"effort": {"search": "M"},
                                                                "planned": ["search"]}])
    author: str | None = Field(default=None, max_length=200)


# --- responses --------------------------------------------------------------------------

class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    store: str
    model: str


class JobOut(Open):
    id: str
    kind: str
    state: str
    done: int
    total: int
    counts: dict[str, Any] | None = None
    error: str | None = None


class StatementTags(Open):
    statement: str
    start: int
    end: int
    areas: list[dict[str, Any]]
    type: dict[str, Any]


class ClassifyResult(BaseModel):
    id: str | None
    statements: list[StatementTags]


class ClassifyOut(BaseModel):
    taxonomy_version: int
    classifier: dict[str, str]
    results: list[ClassifyResult]


class IngestOut(Open):
    created: int
    existing: int
    responses: list[dict[str, Any]]
    tag_rows: int | None = None
    job: JobOut | None = None


class ImportOut(BaseModel):
    import_batch: str
    rows: int
    created: int
    existing: int
    job: JobOut


class Analysis(Open):
    """Every analysis: the survey type analysed (or 'pooled: ...')."""

    survey_type: str
    pooled: bool


class Overall(Open):
    n: int
    nps: float


class ThemesOut(Analysis):
    overall: Overall
    themes: list[dict[str, Any]]
    unassigned: dict[str, Any]
    quantification: dict[str, Any]  # per kind: estimate (adjusted | raw) and why
    total: int
    limit: int
    offset: int
    taxonomy_version: int


class CommentsOut(BaseModel):
    theme: str
    kind: str
    total: int
    limit: int
    offset: int
    comments: list[dict[str, Any]]


class SegmentsOut(Analysis):
    overall: Overall
    segments: list[dict[str, Any]]
    min_n: int


class AdoptionOut(Analysis):
    n: int
    min_n: int
    features: list[dict[str, Any]]


class BehaviourOut(Analysis):
    measures: list[dict[str, Any]]


class TrendsOut(Analysis):
    period: str
    periods: list[dict[str, Any]]


class PmfOut(Analysis):
    survey_types: list[dict[str, Any]]
    segment_spread: list[dict[str, Any]]


class ImpactOut(Analysis):
    kind: str
    nps: float
    leave_one_out: dict[str, float]
    shapley: dict[str, Any]
    regression: dict[str, Any]


class PrioritiesOut(Analysis):
    overall_nps: float
    n: int
    priorities: list[dict[str, Any]]


class ValidateOut(Analysis):
    launches: list[dict[str, Any]]
    fixes: list[dict[str, Any]]
    caveat: str


class TaxonomyVersionOut(BaseModel):
    id: int
    version: int
    hash: str
    active: bool
    author: str | None
    created_at: str
    diff: Any = None


class TaxonomyOut(BaseModel):
    versions: list[TaxonomyVersionOut]


class TaxonomyChangeOut(BaseModel):
    taxonomy_version: int
    hash: str
    job: JobOut


class RoadmapOut(BaseModel):
    roadmap: dict[str, Any]


class DiscoveryStarted(BaseModel):
    id: str
    job: JobOut


class DiscoveryOut(Open):
    id: str
    state: str


class DecisionsOut(BaseModel):
    decisions: list[dict[str, Any]]


class DecisionOut(Open):
    decision: dict[str, Any]


class WebhookOut(BaseModel):
    id: int
    url: str
    theme: str | None
    owner: str | None
    category: str | None
    secret: str
    signature: str


class DeliveriesOut(BaseModel):
    subscription_id: int
    deliveries: list[dict[str, Any]]


# --- the labelling loop ------------------------------------------------------------------

class LabelsRequest(BaseModel):
    labels: list[LabelItem] = Field(min_length=1, max_length=MAX_LABELS)
    by: str | None = Field(default=None, max_length=200,
                           description="Who labelled (default: the API key's name).")


class LabelBatchOut(Open):
    taxonomy: dict[str, Any]
    pool: int
    labelled: int
    items: list[dict[str, Any]]


class LabelsSavedOut(Open):
    taxonomy_version_id: int
    saved: int
    labels: int


class LabelTrainOut(Open):
    taxonomy_version_id: int
    labels: int
    heads: dict[str, Any]
    statements: int
    changed_statements: int
    embedded: int


class LabelStatusOut(Open):
    taxonomy_version_id: int
    labels: int
    heads: dict[str, Any]
