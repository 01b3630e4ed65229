from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from themer.errors import ModelError
from themer.nlp.cache import EmbeddingCache
from themer.nlp.embed import (
    CachedEncoder,
    SentenceTransformerEncoder,
    normalize_text,
    text_key,
)

TEXTS = [
    "the app is slow",
    "Love the dashboards but exporting reports to Excel is painful and takes forever",
    "ok",
    "Support took a week to answer my ticket about billing",
    "please add dark mode",
    "search is broken",
    "the mobile app keeps crashing on my phone",
]


def test_vectors_are_normalised(encoder: SentenceTransformerEncoder) -> None:
    vectors = encoder.encode(TEXTS)
    assert vectors.dtype == np.float32
    assert vectors.shape == (len(TEXTS), encoder.dim)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)


def test_bitwise_independent_of_batch_size_and_order(encoder: SentenceTransformerEncoder) -> None:
    reference = encoder.encode(TEXTS)
    one_by_one = np.stack([encoder.encode([t])[0] for t in TEXTS])
    reversed_rows = encoder.encode(TEXTS[::-1])[::-1]
    assert np.array_equal(reference, one_by_one)
    assert np.array_equal(reference, reversed_rows)


def test_model_id_names_the_model(encoder: SentenceTransformerEncoder) -> None:
    assert encoder.model_id.startswith("st:model:")
    assert encoder.model_id.endswith(":t512")
    assert [encoder.rows_for_length(n) for n in (3, 10, 20, 40, 100, 256)] == [64, 32, 16, 8, 4, 4]


def test_normalisation_and_keys() -> None:
    assert normalize_text("  a\u00a0 b\n c ") == "a b c"
    assert text_key("m", "a  b") == text_key("m", "a b")
    assert text_key("m1", "a") != text_key("m2", "a")


def test_cache_embeds_each_text_once(tmp_path: Path, encoder: SentenceTransformerEncoder) -> None:
    with EmbeddingCache(tmp_path / "cache") as cache:
        cached = CachedEncoder(encoder, cache)
        first = cached.encode([*TEXTS, TEXTS[0]])
        assert cached.misses == len(TEXTS)
        assert cache.count(encoder.model_id) == len(TEXTS)
        again = cached.encode(TEXTS[::-1])
        assert cached.misses == len(TEXTS)  # nothing new embedded
        assert np.array_equal(first[: len(TEXTS)], again[::-1])
    with EmbeddingCache(tmp_path / "cache") as reopened:
        assert reopened.count() == len(TEXTS)


def test_auto_device_without_cuda_is_the_cpu_path(encoder: SentenceTransformerEncoder) -> None:
    import torch

    if torch.cuda.is_available():
        pytest.skip("a GPU is present: eval/bench/gpu_encode.py measures that path")
    auto = SentenceTransformerEncoder(device="auto")
    assert auto.gpu is False
    assert auto.model_id == encoder.model_id  # no ':cuda-fp16': CPU vectors stay CPU vectors


def test_int8_is_its_own_model_close_to_fp32(tmp_path: Path,
                                             encoder: SentenceTransformerEncoder) -> None:
    int8 = SentenceTransformerEncoder(quantize="int8")
    assert int8.model_id == f"{encoder.model_id}:int8"
    quantised, full = int8.encode(TEXTS), encoder.encode(TEXTS)
    assert np.allclose(np.linalg.norm(quantised, axis=1), 1.0, atol=1e-5)
    similarity = quantised @ full.T
    assert np.diag(similarity).mean() > 0.9  # eval/bench/int8.py: 0.92-0.93 on public sets
    # each int8 vector is still nearest to the fp32 vector of its own text
    assert similarity.argmax(axis=1).tolist() == list(range(len(TEXTS)))
    assert not np.array_equal(quantised, full)  # the layers really are quantised
    # a text cached by one encoder is a miss for the other: vectors never mix
    with EmbeddingCache(tmp_path / "cache") as cache:
        CachedEncoder(encoder, cache).encode(TEXTS)
        other = CachedEncoder(int8, cache)
        other.encode(TEXTS)
        assert other.misses == len(set(TEXTS))
    with pytest.raises(ModelError, match="THM324"):
        SentenceTransformerEncoder(quantize="int4")
