from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from themer.ingest import load_responses
from themer.nlp.cache import EmbeddingCache
from themer.nlp.embed import CachedEncoder, SentenceTransformerEncoder, text_key
from themer.nlp.split import StatementSplitter
from themer.nlp.tagger import DEFAULT_RULES, Tagger
from themer.schema import TAG_COLUMNS, UNASSIGNED
from themer.taxonomy import TaxonomyInfo

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def sample() -> pd.DataFrame:
    responses = load_responses(ROOT / "examples" / "nps_survey.csv").responses
    return responses.iloc[:60].reset_index(drop=True)


def make_tagger(encoder: SentenceTransformerEncoder, splitter: StatementSplitter,
                taxonomy: TaxonomyInfo, cache: EmbeddingCache | None = None) -> Tagger:
    return Tagger.build(taxonomy, CachedEncoder(encoder, cache), splitter)


def run(tagger: Tagger, responses: pd.DataFrame, chunk: int) -> pd.DataFrame:
    tags = pd.concat(list(tagger.iter_tags(responses, chunk)), ignore_index=True)
    return tags.sort_values(["statement_id", "kind", "label"]).reset_index(drop=True)


def test_tags_identical_for_any_chunk_size_and_row_order(
    encoder: SentenceTransformerEncoder, splitter: StatementSplitter, taxonomy: TaxonomyInfo,
    sample: pd.DataFrame,
) -> None:
    # No cache: every run embeds from scratch, so equality is not the cache's doing.
    reference = run(make_tagger(encoder, splitter, taxonomy), sample, 256)
    shuffled = sample.sample(frac=1.0, random_state=3).reset_index(drop=True)
    for chunk, frame in ((1, sample), (7, shuffled), (256, shuffled)):
        result = run(make_tagger(encoder, splitter, taxonomy), frame, chunk)
        pd.testing.assert_frame_equal(result, reference)


def test_tag_rows_have_evidence_and_unassigned(
    encoder: SentenceTransformerEncoder, splitter: StatementSplitter, taxonomy: TaxonomyInfo,
    sample: pd.DataFrame, tmp_path: Path,
) -> None:
    tagger = make_tagger(encoder, splitter, taxonomy, EmbeddingCache(tmp_path / "cache"))
    tags = pd.concat(list(tagger.iter_tags(sample)), ignore_index=True)
    assert list(tags.columns) == TAG_COLUMNS
    assert tags["confidence"].between(0, 1).all()
    texts = sample.set_index("response_id")
    for row in tags.itertuples():
        comment = texts.loc[row.response_id, f"text:{row.question}"]
        assert comment[row.start:row.end] == row.statement
    per_statement = tags.groupby(["statement_id", "kind"]).size().unstack()
    assert set(per_statement.columns) == {"area", "type"}
    assert per_statement["type"].eq(1).all()  # exactly one type row (a label or unassigned)
    assert per_statement["area"].between(1, DEFAULT_RULES["area"].max_labels).all()
    kept = tags[tags["label"] != UNASSIGNED]
    assert set(kept[kept["kind"] == "area"]["label"]) <= set(taxonomy.taxonomy.label_ids("area"))
    assert (tags["label"] == UNASSIGNED).any() or len(tags) > 0


def test_obvious_statements_get_the_obvious_tags(
    encoder: SentenceTransformerEncoder, splitter: StatementSplitter, taxonomy: TaxonomyInfo,
) -> None:
    tagger = make_tagger(encoder, splitter, taxonomy)
    statements = pd.DataFrame({
        "response_id": ["a", "b", "c"], "statement_id": ["a#0.0", "b#0.0", "c#0.0"],
        "question": "q", "start": 0, "end": 0,
        "statement": ["Please add a Salesforce integration", "The invoices are wrong and we "
                      "were charged twice", "Your support team is amazing"],
    })
    tags = tagger.tag_statements(statements)
    labels = {}
    for r in tags.itertuples():  # rows are best-first within a statement and kind
        labels.setdefault((r.response_id, r.kind), r.label)
    assert labels[("a", "area")] == "integrations"
    assert labels[("a", "type")] == "feature_request"
    assert labels[("b", "area")] == "billing"
    assert labels[("c", "area")] == "support"
    assert labels[("c", "type")] == "praise"


def test_retag_from_cached_vectors_does_not_embed(
    encoder: SentenceTransformerEncoder, splitter: StatementSplitter, taxonomy: TaxonomyInfo,
    sample: pd.DataFrame, tmp_path: Path,
) -> None:
    cache = EmbeddingCache(tmp_path / "cache")
    first = make_tagger(encoder, splitter, taxonomy, cache)
    statements = first.split(sample)
    first.tag_statements(statements)
    second = make_tagger(encoder, splitter, taxonomy, cache)
    second.tag_statements(statements)
    assert second.encoder.misses == 0
    assert np.isfinite(second.encoder.encode(["anything new"])).all()
    assert second.encoder.misses == 1


def test_streaming_retag_matches_tagging(
    encoder: SentenceTransformerEncoder, splitter: StatementSplitter, taxonomy: TaxonomyInfo,
    sample: pd.DataFrame, tmp_path: Path,
) -> None:
    cache = EmbeddingCache(tmp_path / "cache")
    tagger = make_tagger(encoder, splitter, taxonomy, cache)
    statements = tagger.split(sample)
    half = statements.iloc[: len(statements) // 2]
    tagger.tag_statements(half)  # only half the statements are cached before the re-tag
    expected = make_tagger(encoder, splitter, taxonomy).tag_statements(statements)
    streamed = pd.concat(list(tagger.retag(statements, block=16)), ignore_index=True)
    pd.testing.assert_frame_equal(streamed, expected)
    keys = [text_key(tagger.encoder.model_id, s) for s in statements["statement"]]
    assert cache.get_matrix(keys)[1].all()  # the missing half was embedded and stored


@pytest.mark.parametrize("source", ["taxonomy.yaml", "themer/data/starter_taxonomy.yaml"])
def test_app_praise_is_not_the_api_area(encoder: SentenceTransformerEncoder,
                                        splitter: StatementSplitter, source: str) -> None:
    # Lexical look-alikes: "app" is not "api"; the shipped taxonomies say so with
    # counter_examples, and the real API statements still get the area.
    from themer.taxonomy import load_taxonomy

    info = load_taxonomy(ROOT / source)
    area = "api" if "api" in info.taxonomy.label_ids("area") else "integrations"
    tagger = Tagger.build(info, CachedEncoder(encoder, None), splitter)
    texts = ["great app", "Full five stars for this app", "I love this app, it works well",
             "the API is missing endpoints we need"]
    statements = pd.DataFrame({"response_id": [f"r{i}" for i in range(4)],
                               "statement_id": [f"r{i}#0.0" for i in range(4)],
                               "question": "comment", "start": 0,
                               "end": [len(t) for t in texts], "statement": texts})
    tags = tagger.tag_statements(statements)
    got = tags[tags["kind"] == "area"].groupby("statement")["label"].apply(set)
    for text in texts[:3]:
        assert area not in got[text], text
    for text in texts[3:]:
        assert area in got[text], text
    types = tags[tags["kind"] == "type"].set_index("statement")["label"]
    assert types["great app"] != "feature_request"
