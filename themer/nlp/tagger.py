"""The tagging pipeline: responses -> statements -> vectors -> area and type tags with evidence."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from themer.errors import Errors
from themer.nlp.classify import DecisionRule, LinearHead, PrototypeScorer, assign, rule_for_head
from themer.nlp.embed import CachedEncoder, text_key
from themer.nlp.split import StatementSplitter
from themer.schema import STATEMENT_COLUMNS, STATEMENT_TYPES, TAG_COLUMNS, UNASSIGNED
from themer.taxonomy import LabelKind, TaxonomyInfo

__all__ = [
    "Scorer",
    "Tagger",
    "find_head",
    "find_heads",
    "prototype_scorer",
    "text_columns",
]

VECTOR_BLOCK = 65_536  # rows scored at a time when re-tagging many cached vectors
DEFAULT_RULES: dict[LabelKind, DecisionRule] = {
    "area": DecisionRule(multi_label=True, min_confidence=0.5, max_labels=3),
    "type": DecisionRule(multi_label=False, min_confidence=0.5, margin=0.0),
}
# Zero-shot parameters chosen on the five public labelled sets, statement by statement, each
# kind on the sets of its kind (areas: AUREA, SemEval restaurants; types: Maalej, Panichella,
# GitHub), leave-one-set-out: eval/bench/zero_shot_cv.py, numbers in eval/README.md. Never on
# the synthetic example. Areas abstain (threshold 0.3, chosen so): a statement about no product
# area is common and is what discovery works on. For types the sets chose no threshold; 0.1
# is a floor so a statement unlike every type stays unassigned (it cost 0-0.4 points there).
DEFAULT_PROTOTYPE_PARAMS: dict[LabelKind, dict[str, float]] = {
    "area": {"threshold": 0.3, "example_weight": 0.0, "name_weight": 0.0, "margin": 0.02},
    "type": {"threshold": 0.1, "example_weight": 0.5, "name_weight": 0.15, "margin": 0.0},
}


class Scorer(Protocol):
    classes_: NDArray[Any]

    def predict_proba(self, X: NDArray[np.float32],
                      texts: Sequence[str] | None = None) -> NDArray[np.float32]: ...


def text_columns(responses: pd.DataFrame) -> list[str]:
    return [c for c in responses.columns if c.startswith("text:")]


def find_head(models_dir: Path, kind: LabelKind, taxonomy: TaxonomyInfo,
              model_id: str) -> Path | None:
    """A trained head in ``models_dir`` made for this taxonomy content, label kind and encoder."""
    if not models_dir.is_dir():
        return None
    for meta_path in sorted(models_dir.glob("*/head.json")):
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if (meta.get("label_kind") == kind and meta.get("taxonomy_hash") == taxonomy.content_hash
                and meta.get("embedding_model_id") == model_id):
            return meta_path.parent
    return None


def find_heads(models_dir: Path, taxonomy: TaxonomyInfo, model_id: str
               ) -> dict[LabelKind, Path]:
    """The heads in ``models_dir`` for this taxonomy and encoder, per label kind found."""
    heads: dict[LabelKind, Path] = {}
    for kind in ("area", "type"):
        found = find_head(models_dir, kind, taxonomy, model_id)
        if found is not None:
            heads[kind] = found
    return heads


@dataclass
class Tagger:
    """Tags responses with a taxonomy; scorers per kind are zero-shot unless a head is given."""

    taxonomy: TaxonomyInfo
    encoder: CachedEncoder
    splitter: StatementSplitter
    scorers: dict[LabelKind, Scorer]
    rules: dict[LabelKind, DecisionRule]
    sources: dict[LabelKind, str]
    # cascade: statements whose confidence for some label is within ``band`` of its bar are
    # tagged by ``fallback`` (MiniLM) instead; decided per statement, so deterministic
    fallback: Tagger | None = None
    band: float = 0.05
    routed: int = 0  # statements sent to the fallback so far
    seen: int = 0  # statements tagged so far

    @classmethod
    def build(
        cls,
        taxonomy: TaxonomyInfo,
        encoder: CachedEncoder,
        splitter: StatementSplitter,
        *,
        heads: dict[LabelKind, Path] | None = None,
        rules: dict[LabelKind, DecisionRule] | None = None,
        prototype_params: dict[LabelKind, dict[str, float]] | None = None,
    ) -> Tagger:
        scorers: dict[LabelKind, Scorer] = {}
        sources: dict[LabelKind, str] = {}
        rules = {**DEFAULT_RULES, **(rules or {})}
        for kind in ("area", "type"):
            head_dir = (heads or {}).get(kind)
            if head_dir is not None:
                head, meta = LinearHead.load(head_dir)
                _check_head(head_dir, meta, kind, taxonomy, encoder.model_id)
                scorers[kind] = head
                sources[kind] = f"head:{Path(head_dir).name}"
                rules[kind] = rule_for_head(rules[kind], meta)
                continue
            scorers[kind] = prototype_scorer(taxonomy, kind, encoder,
                                             (prototype_params or {}).get(kind))
            sources[kind] = "zero-shot"
        return cls(taxonomy, encoder, splitter, scorers, rules, sources)

    def split(self, responses: pd.DataFrame) -> pd.DataFrame:
        """One row per statement (STATEMENT_COLUMNS), in response then question order."""
        records: list[tuple[int, int, int, str, str, str, int, int, str]] = []
        ids = responses["response_id"].tolist()
        for q_index, column in enumerate(text_columns(responses)):
            question = column.removeprefix("text:")
            comments = responses[column].tolist()
            for r_index, (rid, spans) in enumerate(
                zip(ids, self.splitter.split_many(comments), strict=True)
            ):
                for s_index, span in enumerate(spans):
                    records.append((r_index, q_index, s_index, rid, f"{rid}#{q_index}.{s_index}",
                                    question, span.start, span.end, span.text))
        records.sort(key=lambda r: (r[0], r[1], r[2]))
        frame = pd.DataFrame.from_records([r[3:] for r in records], columns=STATEMENT_COLUMNS)
        # Same dtypes whether the chunk had statements or not (an all-blank chunk has none).
        return frame.astype(STATEMENT_TYPES)

    def tag_vectors(self, vectors: NDArray[np.float32], texts: Sequence[str]
                    ) -> dict[LabelKind, tuple[NDArray[np.bool_], NDArray[np.float32]]]:
        """Per kind: (kept mask, confidences), both (n, L). Pure given the fitted scorers.

        ``texts`` are the statements of the vectors (a trained head reads their words).
        Works in blocks of rows so a million vectors never make a (n, examples) temporary.
        """
        out = {}
        for kind in ("area", "type"):
            n_labels = len(self.scorers[kind].classes_)
            proba = np.empty((len(vectors), n_labels), dtype=np.float32)
            for start in range(0, len(vectors), VECTOR_BLOCK):
                block = self.scorers[kind].predict_proba(vectors[start:start + VECTOR_BLOCK],
                                                         texts[start:start + VECTOR_BLOCK])
                # Rounded once, here, so every output (CSV, JSON, API) shows the same number.
                proba[start:start + VECTOR_BLOCK] = np.round(block, 4)
            out[kind] = (assign(proba, self.rules[kind]), proba)
        return out  # type: ignore[return-value]

    def tag_statements(self, statements: pd.DataFrame,
                       progress: Callable[[int], Any] | None = None) -> pd.DataFrame:
        """Tag rows (TAG_COLUMNS) for statements; a kind with no tag gets label 'unassigned'."""
        vectors = self.encoder.encode(statements["statement"].tolist(), progress=progress)
        return self.tags_from_vectors(statements, vectors)

    def unsure(self, results: dict[LabelKind, tuple[NDArray[np.bool_], NDArray[np.float32]]]
               ) -> NDArray[np.bool_]:
        """Statements with a confidence within ``band`` of its label's bar, for some kind."""
        rows = len(next(iter(results.values()))[1])
        out = np.zeros(rows, dtype=bool)
        for kind, (_, proba) in results.items():
            rule = self.rules[kind]
            bars = np.asarray(rule.label_thresholds or [rule.min_confidence] * proba.shape[1],
                              dtype=np.float32)
            out |= (np.abs(proba - bars) < self.band).any(axis=1)
        return out

    def tags_from_vectors(self, statements: pd.DataFrame,
                          vectors: NDArray[np.float32]) -> pd.DataFrame:
        texts = statements["statement"].tolist()
        results = self.tag_vectors(vectors, texts)
        self.seen += len(statements)
        if self.fallback is None or not len(statements):
            return self._ordered(self._rows(statements, results), statements)
        unsure = self.unsure(results)
        self.routed += int(unsure.sum())
        sure = {kind: (mask[~unsure], proba[~unsure])
                for kind, (mask, proba) in results.items()}
        parts = [self._rows(statements[~unsure], sure)]
        if unsure.any():
            parts.append(self.fallback.tag_statements(statements[unsure]))
        return self._ordered(pd.concat(parts, ignore_index=True), statements)

    def _rows(self, statements: pd.DataFrame,
              results: dict[LabelKind, tuple[NDArray[np.bool_], NDArray[np.float32]]]
              ) -> pd.DataFrame:
        parts = []
        for kind, (mask, proba) in results.items():
            classes = np.asarray(self.scorers[kind].classes_)
            rows, cols = np.nonzero(mask)
            tagged = statements.iloc[rows].assign(
                kind=kind, label=classes[cols], confidence=proba[rows, cols]
            )
            empty = ~mask.any(axis=1)
            best = proba[empty].max(axis=1) if proba.shape[1] else np.zeros(int(empty.sum()))
            # Unassigned rows carry the best label's confidence: how close it came.
            untagged = statements[empty].assign(kind=kind, label=UNASSIGNED, confidence=best)
            parts += [tagged, untagged]
        return pd.concat(parts, ignore_index=True)

    @staticmethod
    def _ordered(frame: pd.DataFrame, statements: pd.DataFrame) -> pd.DataFrame:
        """Statement order, areas before types, most confident first (row order independent)."""
        key = statements["statement_id"].reset_index(drop=True)
        position = pd.Series(np.arange(len(key)), index=key.to_numpy())
        frame["_order"] = position.reindex(frame["statement_id"].to_numpy()).to_numpy()
        frame["_kind"] = (frame["kind"] == "type").astype(int)
        frame = frame.sort_values(["_order", "_kind", "confidence", "label"],
                                  ascending=[True, True, False, True], kind="stable")
        frame["confidence"] = frame["confidence"].astype(float).round(4)
        return frame.drop(columns=["_order", "_kind"]).reset_index(drop=True)[TAG_COLUMNS]

    def retag(self, statements: pd.DataFrame, block: int = VECTOR_BLOCK
              ) -> Iterator[pd.DataFrame]:
        """Tag rows for already-split statements, streaming their vectors from the cache.

        For batch re-tagging after a taxonomy or head change: vectors are read a block at a
        time into one reused buffer; only statements missing from the cache are embedded
        (all of them when the encoder has no cache).
        """
        cache = getattr(self.encoder, "cache", None)
        if cache is None:  # an encoder without a cache: embed block by block
            for start in range(0, len(statements), block):
                yield self.tag_statements(statements.iloc[start:start + block])
            return
        keys = [text_key(self.encoder.model_id, t) for t in statements["statement"].tolist()]
        for start, vectors, found in cache.iter_matrix(keys, self.encoder.dim, block):
            part = statements.iloc[start:start + len(vectors)]
            if not found.all():
                missing = np.flatnonzero(~found)
                vectors[missing] = self.encoder.encode(part["statement"].iloc[missing].tolist())
            yield self.tags_from_vectors(part, vectors)

    def iter_tags(self, responses: pd.DataFrame, chunk_size: int = 10_000,
                  progress: Callable[[int], Any] | None = None) -> Iterator[pd.DataFrame]:
        """Tag rows chunk by chunk, so memory stays flat however many responses there are."""
        for start in range(0, len(responses), chunk_size):
            chunk = responses.iloc[start:start + chunk_size]
            statements = self.split(chunk)
            yield self.tag_statements(statements)
            if progress is not None:
                progress(len(chunk))


def prototype_scorer(taxonomy: TaxonomyInfo, kind: LabelKind, encoder: CachedEncoder,
                     params: dict[str, float] | None = None) -> PrototypeScorer:
    """Zero-shot scorer for one label kind from the taxonomy's descriptions, examples, names
    and counter-examples (all embedded in one call; a text is embedded once per call)."""
    labels = taxonomy.taxonomy.labels(kind)
    groups = [label.prototype_texts() for label in labels]
    groups += [[label.name_text()] for label in labels]
    groups += [taxonomy.taxonomy.counter_texts(label, kind) for label in labels]
    vectors = encoder.encode([t for group in groups for t in group])
    blocks, start = [], 0
    for group in groups:
        blocks.append(vectors[start:start + len(group)])
        start += len(group)
    n = len(labels)
    return PrototypeScorer(**{**DEFAULT_PROTOTYPE_PARAMS[kind], **(params or {})}).fit(
        blocks[:n], [label.id for label in labels], [label.threshold for label in labels],
        names=np.concatenate(blocks[n:2 * n]), counter_vectors=blocks[2 * n:])


def _check_head(folder: Path, meta: dict[str, Any], kind: LabelKind, taxonomy: TaxonomyInfo,
                model_id: str) -> None:
    if meta.get("label_kind") != kind:
        raise Errors.THM312.error(folder=folder, found=meta.get("label_kind"), kind=kind)
    if meta.get("embedding_model_id") != model_id:
        raise Errors.THM313.error(folder=folder, trained=meta.get("embedding_model_id"),
                                  model_id=model_id)
    unknown = sorted(set(meta.get("labels", [])) - set(taxonomy.taxonomy.label_ids(kind)))
    if unknown:
        raise Errors.THM314.error(folder=folder, unknown=unknown, kind=kind,
                                  source=taxonomy.source)
