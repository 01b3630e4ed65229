from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from themer.errors import ModelError
from themer.nlp.cache import EmbeddingCache


def key(prefix: bytes, rest: bytes) -> bytes:
    return (prefix * 8)[:8] + (rest * 24)[:24]


def test_round_trip_across_models_and_reopen(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    a = {key(bytes([i]), b"a"): rng.standard_normal(4).astype(np.float32) for i in range(1, 50)}
    b = {key(bytes([i]), b"b"): rng.standard_normal(6).astype(np.float32) for i in range(60, 70)}
    with EmbeddingCache(tmp_path) as cache:
        cache.put_many("model-a", a)
        cache.put_many("model-b", b)
        cache.put_many("model-a", a)  # already there: nothing appended
        assert (cache.count("model-a"), cache.count("model-b"), cache.count()) == (49, 10, 59)
    with EmbeddingCache(tmp_path) as cache:
        keys = [*list(a)[::-1], next(iter(a))]
        matrix, found = cache.get_matrix(keys)
        assert found.all()
        assert np.array_equal(matrix, np.stack([a[k] for k in keys]))
        assert np.array_equal(cache.get_many(list(b))[list(b)[3]], b[list(b)[3]])
    files = sorted(p.name for p in tmp_path.glob("vectors-*.f32"))
    assert len(files) == 2
    assert sum((tmp_path / f).stat().st_size for f in files) == 4 * (49 * 4 + 10 * 6)


def test_full_key_is_checked_on_rowid_collision(tmp_path: Path) -> None:
    first, twin = key(b"\x01", b"a"), key(b"\x01", b"b")  # same 8-byte row id
    with EmbeddingCache(tmp_path) as cache:
        cache.put_many("m", {first: np.ones(4, dtype=np.float32)})
        cache.put_many("m", {twin: np.zeros(4, dtype=np.float32)})  # slot taken: not indexed
        matrix, found = cache.get_matrix([twin, first, first], dim=4)
        assert found.tolist() == [False, True, True]
        assert matrix[1].tolist() == [1.0] * 4
        assert matrix[0].tolist() == [0.0] * 4


def test_torn_append_is_dropped_and_data_stays_right(tmp_path: Path) -> None:
    one, two = key(b"\x02", b"x"), key(b"\x03", b"y")
    with EmbeddingCache(tmp_path) as cache:
        cache.put_many("m", {one: np.full(4, 1.0, dtype=np.float32)})
        vector_file = next(tmp_path.glob("vectors-*.f32"))
        with vector_file.open("ab") as handle:  # a crash in the middle of writing a row
            handle.write(b"\x00" * 6)
        cache.put_many("m", {two: np.full(4, 2.0, dtype=np.float32)})
        matrix, found = cache.get_matrix([one, two])
        assert found.all()
        assert matrix.tolist() == [[1.0] * 4, [2.0] * 4]
        assert vector_file.stat().st_size == 2 * 16


def test_dimension_mismatch_is_an_error(tmp_path: Path) -> None:
    with EmbeddingCache(tmp_path) as cache:
        cache.put_many("m", {key(b"\x04", b"a"): np.ones(4, dtype=np.float32)})
        with pytest.raises(ModelError, match="dimensions"):
            cache.put_many("m", {key(b"\x05", b"a"): np.ones(3, dtype=np.float32)})


def test_empty_and_missing(tmp_path: Path) -> None:
    with EmbeddingCache(tmp_path) as cache:
        matrix, found = cache.get_matrix([], dim=4)
        assert matrix.shape == (0, 4)
        matrix, found = cache.get_matrix([key(b"\x09", b"z")], dim=4)
        assert not found.any()
        assert matrix.shape == (1, 4)


def test_iter_matrix_blocks_match_get_matrix(tmp_path: Path) -> None:
    rng = np.random.default_rng(1)
    items = {key(bytes([i]), bytes([i + 1])): rng.standard_normal(5).astype(np.float32)
             for i in range(1, 40)}
    with EmbeddingCache(tmp_path) as cache:
        cache.put_many("m", items)
        cache.put_many("other", {key(b"\x7f", b"q"): np.ones(5, dtype=np.float32)})
        keys = [*list(items)[::2], key(b"\x7e", b"missing"), key(b"\x7f", b"q"), *list(items)]
        expected, expected_found = cache.get_matrix(keys)
        starts = []
        for start, block, found in cache.iter_matrix(keys, dim=5, block=7):
            starts.append(start)
            assert np.array_equal(block, expected[start:start + len(block)])
            assert np.array_equal(found, expected_found[start:start + len(block)])
        assert starts == list(range(0, len(keys), 7))
        assert expected_found.sum() == len(keys) - 1
