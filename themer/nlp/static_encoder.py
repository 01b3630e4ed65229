"""The fast encoder: static token embeddings distilled offline from the shipped MiniLM.

``distill`` runs model2vec's distillation on the local sentence-transformers folder (each
vocabulary token through the transformer once, PCA, Zipf/SIF weighting; no hub access) and
writes a model2vec folder plus ``model_card.json`` (source model and its fingerprint, dims,
vocabulary size, date). ``StaticEncoder`` embeds a text as the weighted mean of its tokens'
rows: no transformer at run time, so tens of thousands of texts per second on 2 cores, at some
cost in accuracy (see eval/README.md). Each text's vector depends on that text alone, so the
output is the same whatever the batch or row order.

model2vec (and skeletoken, for distilling) come with ``pip install themer[fast]``.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np

from themer.errors import ModelError
from themer.nlp.embed import Matrix, default_model_path, folder_fingerprint

__all__ = ["CARD", "StaticEncoder", "distill"]

CARD = "model_card.json"
ENCODE_BLOCK = 4096  # texts per model2vec call (bounded memory, a progress tick each)


def _model2vec() -> Any:
    try:
        import model2vec
    except ImportError:
        raise ModelError("the static encoder needs model2vec: pip install 'themer[fast]'.",
                         code="THM320") from None
    return model2vec


def distill(output: Path, *, source: Path | None = None, pca_dims: int | None = 256,
            vocabulary: Sequence[str] | None = None,
            drop_tokens: str = r"\[unused\d+\]") -> dict[str, Any]:
    """Distil a static model from the local MiniLM folder into ``output``; returns its card.

    ``vocabulary``: words added to the model's subword vocabulary (each gets its own row);
    ``drop_tokens``: a regex of the model's own tokens to leave out."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    _model2vec()
    try:
        from model2vec.distill import distill_from_model
    except ImportError as exc:
        raise ModelError(f"distilling needs model2vec's distill extras ({exc}): pip install "
                         "'themer[fast]'.", code="THM321") from None
    from sentence_transformers import SentenceTransformer

    source = source or default_model_path()
    model = SentenceTransformer(str(source), device="cpu", local_files_only=True)
    static = distill_from_model(cast(Any, model[0]).auto_model, model.tokenizer,
                                vocabulary=list(vocabulary) if vocabulary else None,
                                pca_dims=pca_dims, device="cpu",
                                token_remove_pattern=drop_tokens)
    output.mkdir(parents=True, exist_ok=True)
    static.save_pretrained(str(output))
    card = {"kind": "themer static encoder", "source_model": source.name,
            "source_fingerprint": folder_fingerprint(source), "dims": int(static.dim),
            "vocabulary_size": len(static.tokens), "pca_dims": pca_dims,
            "custom_vocabulary": bool(vocabulary), "method": "model2vec distill_from_model "
            "(mean pooling, SIF 1e-4)", "created": datetime.now(UTC).isoformat()}
    (output / CARD).write_text(json.dumps(card, indent=2), encoding="utf-8")
    return card


class StaticEncoder:
    """A distilled static model from a local folder (see ``distill``)."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if not (path / CARD).is_file():
            raise ModelError(f"{path}: no static encoder here (no {CARD}); build one with "
                             "`themer models distill -o PATH`.", code="THM322")
        model2vec = _model2vec()
        try:
            self._model = model2vec.StaticModel.from_pretrained(str(path))
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path}: cannot load the static model ({exc}).",
                             code="THM323") from None
        self._dim = int(self._model.dim)
        self._model_id = f"static:{path.name}:{folder_fingerprint(path)}"

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def dim(self) -> int:
        return self._dim

    def encode(self, texts: Sequence[str],
               progress: Callable[[int], Any] | None = None) -> Matrix:
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        for start in range(0, len(texts), ENCODE_BLOCK):
            block = list(texts[start:start + ENCODE_BLOCK])
            vectors = np.asarray(self._model.encode(block, show_progress_bar=False),
                                 dtype=np.float32)
            norms = np.linalg.norm(vectors, axis=1, keepdims=True)
            out[start:start + len(block)] = vectors / np.where(norms > 0, norms, 1.0)
            if progress is not None:
                progress(len(block))
        return out
