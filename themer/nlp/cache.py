"""On-disk embedding cache: embed each distinct text once, re-tag from stored vectors forever.

Layout of the cache folder::

    index.sqlite          key (32-byte hash of model id + text) -> (model, row); models -> file, dim
    vectors-<hash>.f32    one append-only float32 matrix per model, ``dim`` values per row

Why not vectors in SQLite: reading a million 1.5 kB blobs back costs 8-17 s on 2 cores, while a
memory-mapped matrix gathers them in about a second; the index rows stay small and fast.
Writes take a file lock, append the vectors (fsync), then commit the index rows in one
transaction: a crash leaves at worst unreferenced rows at the end of a file, never an index
entry that points at missing data.
"""

from __future__ import annotations

import fcntl
import hashlib
import mmap
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import numpy as np
from numpy.typing import NDArray

from themer.errors import Errors

__all__ = ["EmbeddingCache"]

Matrix = NDArray[np.float32]
_SQL_CHUNK = 5000  # keys per IN (...) query: under SQLite's 32,766 bound-parameter cap


def _row_ids(keys: Sequence[bytes]) -> NDArray[np.int64]:
    """Index rowid of each key: its first 8 bytes as a signed integer (full key is checked)."""
    return np.frombuffer(b"".join(k[:8] for k in keys), dtype=">i8").astype(np.int64)


def _gather(views: Sequence[Matrix | None], key_model: NDArray[np.int64],
            key_row: NDArray[np.int64], out: Matrix) -> NDArray[np.bool_]:
    """Copy each key's row from its model's view into ``out``; returns the found mask."""
    found = key_model >= 0
    for index, view in enumerate(views):
        mine = key_model == index
        if view is None:  # model listed in the index but its file is gone
            found &= ~mine
        elif mine.any():
            out[mine] = view[key_row[mine]]
    return found


class EmbeddingCache:
    """Vectors keyed by (model id, normalised-text hash), in a folder (see module docstring)."""

    def __init__(self, folder: str | Path) -> None:
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        # Not bound to the creating thread: the API loads the model in one thread and tags in
        # request threads. Callers serialise use of one cache object (the API holds a lock).
        self._conn = sqlite3.connect(self.folder / "index.sqlite", timeout=60,
                                     check_same_thread=False)
        self._conn.execute("PRAGMA journal_mode=WAL")
        with self._conn:
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS models (model_id TEXT PRIMARY KEY, "
                "file TEXT NOT NULL UNIQUE, dim INTEGER NOT NULL)")
            self._conn.execute(
                "CREATE TABLE IF NOT EXISTS keys (id INTEGER PRIMARY KEY, key BLOB NOT NULL, "
                "model_id TEXT NOT NULL, row INTEGER NOT NULL)")

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def _write_lock(self) -> Iterator[None]:
        with (self.folder / "write.lock").open("a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def _model(self, model_id: str) -> tuple[Path, int] | None:
        row = self._conn.execute("SELECT file, dim FROM models WHERE model_id = ?",
                                 (model_id,)).fetchone()
        return None if row is None else (self.folder / row[0], int(row[1]))

    def _lookup(self, unique_ids: NDArray[np.int64]) -> list[tuple[int, bytes, str, int]]:
        rows: list[tuple[int, bytes, str, int]] = []
        for start in range(0, len(unique_ids), _SQL_CHUNK):
            chunk = unique_ids[start:start + _SQL_CHUNK].tolist()
            marks = ",".join("?" * len(chunk))
            rows += self._conn.execute(
                f"SELECT id, key, model_id, row FROM keys WHERE id IN ({marks})", chunk
            ).fetchall()
        return rows

    def _resolve(self, keys: Sequence[bytes]
                 ) -> tuple[NDArray[np.int64], NDArray[np.int64], list[str]]:
        """Per key: index into the returned model list (-1 = not cached) and row in its file."""
        unique, inverse = np.unique(_row_ids(keys), return_inverse=True)
        rows = self._lookup(unique)
        models: list[str] = []
        slot_model = np.full(len(unique), -1, dtype=np.int64)
        slot_row = np.zeros(len(unique), dtype=np.int64)
        stored: list[bytes | None] = [None] * len(unique)
        if rows:
            slots = np.searchsorted(unique, np.fromiter((r[0] for r in rows), np.int64, len(rows)))
            model_index = {}
            for slot, (_, key, model_id, row) in zip(slots.tolist(), rows, strict=True):
                stored[slot] = key
                if model_id not in model_index:
                    model_index[model_id] = len(models)
                    models.append(model_id)
                slot_model[slot] = model_index[model_id]
                slot_row[slot] = row
        # The full key must match: a shared 8-byte prefix is a miss, never a wrong vector.
        matches = np.fromiter((stored[j] == key for j, key in zip(inverse.tolist(), keys,
                                                                  strict=True)),
                              dtype=bool, count=len(keys))
        key_model = np.where(matches, slot_model[inverse], -1)
        return key_model, slot_row[inverse], models

    def _open(self, model_id: str, dim: int | None) -> Matrix | None:
        """Read-only view of a model's vector file, pre-faulted in one go (MAP_POPULATE)."""
        found_model = self._model(model_id)
        if found_model is None:
            return None
        path, model_dim = found_model
        if dim is not None and model_dim != dim:
            raise Errors.THM316.error(folder=self.folder, model_id=model_id, cached=model_dim,
                                      dim=dim)
        n_rows = path.stat().st_size // (4 * model_dim)
        if n_rows == 0:
            return np.zeros((0, model_dim), dtype=np.float32)
        with path.open("rb") as handle:
            flags = mmap.MAP_SHARED | getattr(mmap, "MAP_POPULATE", 0)
            mapped = mmap.mmap(handle.fileno(), n_rows * 4 * model_dim, flags=flags,
                               prot=mmap.PROT_READ)
        view: Matrix = np.frombuffer(mapped, dtype=np.float32).reshape(n_rows, model_dim)
        return view

    def iter_matrix(self, keys: Sequence[bytes], dim: int, block: int = 65_536
                    ) -> Iterator[tuple[int, Matrix, NDArray[np.bool_]]]:
        """(start, vectors, found) for consecutive blocks of keys, for streaming re-tags.

        The vectors array is one buffer reused for every block (no fresh memory to fault in
        per block): use or copy it before asking for the next block.
        """
        key_model, key_row, models = self._resolve(keys)
        views = [self._open(model_id, dim) for model_id in models]
        buffer = np.zeros((min(block, len(keys)), dim), dtype=np.float32)
        for start in range(0, len(keys), block):
            end = min(start + block, len(keys))
            out = buffer[: end - start]
            found = key_model[start:end] >= 0
            if len(views) == 1 and views[0] is not None and found.all():
                np.take(views[0], key_row[start:end], axis=0, out=out)  # the common case
                yield start, out, found
            else:
                out[:] = 0.0
                yield start, out, _gather(views, key_model[start:end], key_row[start:end], out)

    def get_matrix(self, keys: Sequence[bytes], dim: int | None = None
                   ) -> tuple[Matrix, NDArray[np.bool_]]:
        """(rows in key order, found mask); rows of missing keys are zero."""
        if not keys:
            return np.zeros((0, dim or 0), np.float32), np.zeros(0, bool)
        key_model, key_row, models = self._resolve(keys)
        views = [self._open(model_id, dim) for model_id in models]
        width = dim or next((v.shape[1] for v in views if v is not None), 0)
        out = np.zeros((len(keys), width), dtype=np.float32)
        return out, _gather(views, key_model, key_row, out)

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, Matrix]:
        """Vectors of the keys that are cached (absent keys are simply missing)."""
        matrix, found = self.get_matrix(keys)
        return {key: matrix[i] for i, key in enumerate(keys) if found[i]}

    def put_many(self, model_id: str, items: dict[bytes, Matrix]) -> None:
        """Store vectors for keys not cached yet (same-model, same-dim rows)."""
        if not items:
            return
        keys = list(items)
        vectors = np.ascontiguousarray(np.stack([items[k] for k in keys]), dtype=np.float32)
        dim = int(vectors.shape[1])
        with self._write_lock():
            known = self._model(model_id)
            if known is None:
                name = f"vectors-{hashlib.sha256(model_id.encode()).hexdigest()[:16]}.f32"
                with self._conn:
                    self._conn.execute("INSERT INTO models (model_id, file, dim) VALUES (?, ?, ?)",
                                       (model_id, name, dim))
                known = (self.folder / name, dim)
            path, model_dim = known
            if model_dim != dim:
                raise Errors.THM316.error(folder=self.folder, model_id=model_id,
                                          cached=model_dim, dim=dim)
            _, found = self.get_matrix(keys, dim)
            fresh = np.flatnonzero(~found)
            if len(fresh) == 0:
                return
            row_bytes = 4 * dim
            with path.open("ab") as handle:
                size = handle.seek(0, os.SEEK_END)
                if size % row_bytes:  # a torn append from a crash: drop the partial row
                    handle.truncate(size - size % row_bytes)
                    size -= size % row_bytes
                handle.write(vectors[fresh].tobytes())
                handle.flush()
                os.fsync(handle.fileno())
            first_row = size // row_bytes
            ids = _row_ids(keys)
            with self._conn:
                self._conn.executemany(
                    "INSERT OR IGNORE INTO keys (id, key, model_id, row) VALUES (?, ?, ?, ?)",
                    [(int(ids[i]), keys[i], model_id, first_row + j)
                     for j, i in enumerate(fresh.tolist())],
                )

    def count(self, model_id: str | None = None) -> int:
        """Number of cached keys (of one model, or all)."""
        if model_id is None:
            return int(self._conn.execute("SELECT COUNT(*) FROM keys").fetchone()[0])
        query = "SELECT COUNT(*) FROM keys WHERE model_id = ?"
        return int(self._conn.execute(query, (model_id,)).fetchone()[0])
