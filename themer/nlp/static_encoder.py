"""The fast encoder: static token embeddings distilled offline from the shipped MiniLM.

``distill`` runs model2vec's distillation on the local sentence-transformers folder (each
vocabulary token through the transformer once, PCA, Zipf/SIF weighting; no hub access) and
writes a model2vec folder plus ``model_card.json`` (source model and its fingerprint, dims,
vocabulary size, date). ``StaticEncoder`` embeds a text as the weighted mean of its tokens'
rows: no transformer at run time, so tens of thousands of texts per second on 2 cores, at some
cost in accuracy (see eval/README.md). Each text's vector depends on that text alone, so the
output is the same whatever the batch or row order.

``ensure_static_model`` builds the default folder (in the cache) on first use: it distils into
a hidden temporary folder beside it and renames that into place, so the folder is either
absent or complete; a crash leaves only a ``.<name>.tmp-*`` folder, removed by the next build.
Two processes racing: on POSIX a lock file makes the second wait and reuse the first's model;
elsewhere both build and the first rename wins (the loser discards its copy)::

    ~/.cache/themer/
        static-minilm/           model.safetensors, tokenizer.json, config.json, model_card.json
        .static-minilm.lock      held while a build runs (POSIX)
        .static-minilm.tmp-ab12  a build in progress (or a crashed one)

model2vec (and skeletoken, for distilling) are dependencies of themer.
"""

from __future__ import annotations

import functools
import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager, suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import numpy as np

from themer.errors import Errors
from themer.nlp.embed import Matrix, default_model_path, folder_fingerprint

__all__ = ["CARD", "StaticEncoder", "distill", "ensure_static_model", "is_complete"]

CARD = "model_card.json"
ENCODE_BLOCK = 4096  # texts per model2vec call (bounded memory, a progress tick each)
DROP_TOKENS = r"\[unused\d+\]"  # BERT's placeholder tokens: no meaning, no row
MODEL_FILES = (CARD, "config.json", "tokenizer.json")


def _model2vec() -> Any:
    try:
        import model2vec
    except ImportError:
        raise Errors.THM399.error() from None
    return model2vec


@contextmanager
def _no_model2vec_bar() -> Iterator[None]:
    """model2vec draws a tqdm bar of its own on stderr; the caller shows themer's progress."""
    from model2vec.distill import inference
    from tqdm import tqdm

    drawn = vars(inference)["tqdm"]
    setattr(inference, "tqdm", functools.partial(tqdm, disable=True))  # noqa: B010
    try:
        yield
    finally:
        setattr(inference, "tqdm", drawn)  # noqa: B010


def distill(output: Path, *, source: Path | None = None, pca_dims: int | None = 256,
            vocabulary: Sequence[str] | None = None,
            drop_tokens: str = DROP_TOKENS) -> dict[str, Any]:
    """Distil a static model from the local MiniLM folder into ``output``; returns its card.

    ``vocabulary``: words added to the model's subword vocabulary (each gets its own row);
    ``drop_tokens``: a regex of the model's own tokens to leave out."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    _model2vec()
    try:
        from model2vec.distill import distill_from_model
    except ImportError as exc:
        raise Errors.THM398.error(reason=exc) from None
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    source = source or default_model_path()
    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]
    model = SentenceTransformer(str(source), device="cpu", local_files_only=True)
    with _no_model2vec_bar():
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


def is_complete(folder: Path) -> bool:
    """True when ``folder`` holds a whole distilled model (the card is written last)."""
    return all((folder / name).is_file() for name in MODEL_FILES) and any(
        folder.glob("*.safetensors"))


@contextmanager
def _build_lock(folder: Path) -> Iterator[bool]:
    """Hold ``.<name>.lock`` beside ``folder`` (POSIX flock; released if the process dies);
    yields whether a lock is held (False where flock does not exist)."""
    try:
        import fcntl
    except ImportError:  # Windows: the atomic rename alone keeps the folder whole
        yield False
        return
    with open(folder.parent / f".{folder.name}.lock", "a+b") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield True
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _remove(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)


def _check_source(folder: Path, source: Path) -> None:
    card = json.loads((folder / CARD).read_text(encoding="utf-8"))
    expected = folder_fingerprint(source)
    if card.get("source_fingerprint") != expected:
        raise Errors.THM335.error(
            folder=folder, found=f"{card.get('source_model')} {card.get('source_fingerprint')}",
            expected=f"{source.name} {expected}")


def ensure_static_model(folder: Path, *, source: Path | None = None,
                        progress: Callable[[str], None] | None = None,
                        pca_dims: int | None = 256, drop_tokens: str = DROP_TOKENS) -> Path:
    """``folder`` with a complete static model, distilled there first if missing (offline, from
    ``source``, default the packaged MiniLM: about two minutes on 2 busy cores, once).

    Meant for themer's own cache folder: a folder the user names should be built with
    ``distill`` (``StaticEncoder`` refuses a missing one). A model found there that was
    distilled from another source is an error, not silently replaced."""
    note = progress or (lambda _message: None)
    source = source or default_model_path()
    if is_complete(folder):
        _check_source(folder, source)
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _build_lock(folder) as locked:
        if is_complete(folder):  # built by the process that held the lock before us
            note(f"static encoder built by another process: {folder}")
            _check_source(folder, source)
            return folder
        if locked:  # no one else builds now: what is left is from crashed builds
            for stale in folder.parent.glob(f".{folder.name}.tmp-*"):
                _remove(stale)
        if folder.exists() and not is_complete(folder):  # an interrupted `distill`: set aside
            trash = folder.parent / f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}"
            with suppress(OSError):  # another process moved or replaced it first
                folder.rename(trash)
            _remove(trash)
        note(f"building the static encoder in {folder} from {source} (once; a minute or two)")
        temporary = folder.parent / f".{folder.name}.tmp-{uuid.uuid4().hex[:8]}"
        try:
            card = distill(temporary, source=source, pca_dims=pca_dims, drop_tokens=drop_tokens)
            try:
                temporary.rename(folder)  # atomic: the folder appears whole or not at all
            except OSError:  # another process renamed its build first (no lock here)
                if not is_complete(folder):
                    raise
                note(f"static encoder built by another process: {folder}")
                _check_source(folder, source)
                return folder
        finally:
            _remove(temporary)  # nothing left behind on failure (no-op after the rename)
    note(f"static encoder ready: {card['dims']} dims, {card['vocabulary_size']} tokens")
    return folder


class StaticEncoder:
    """A distilled static model from a local folder (see ``distill``)."""

    def __init__(self, path: str | Path) -> None:
        path = Path(path)
        if not (path / CARD).is_file():
            raise Errors.THM322.error(path=path, card=CARD)
        model2vec = _model2vec()
        try:
            self._model = model2vec.StaticModel.from_pretrained(str(path))
        except (OSError, ValueError) as exc:
            raise Errors.THM323.error(path=path, reason=exc) from None
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
