"""Sentence-embedding matcher: cosine between the conversation and each route's description (and examples)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .base import LocalClassifier, Match, Prepared, Route
from .conversation import conversation_query
from .lexical import LexicalClassifier
from .text import glosses, is_foreign, raw_words

THRESHOLD = 0.0  # a floor under the relative bar below
MARGIN = 0.1  # how far the best route must beat the closest everyday-request text
SHORT_TURN_WORDS = 6  # a latest turn this short ("and in French?") borrows the previous user turn
# What a gateway's traffic holds besides its routes. A route must beat the closest of these by
# `margin`: a relative bar that follows the route set's own score scale, where an absolute
# threshold tuned on one set's wording turns away in-scope prompts of a set in other words.
OTHER = (
    "General knowledge and trivia questions.",
    "Casual conversation and greetings.",
    "Everyday advice about food, health, travel and home.",
)


@dataclass(frozen=True)
class _Vectors:
    matrix: Any  # (rows, 384): one row per description or example
    owners: tuple[int, ...]  # route index of each row
    other: Any  # (len(OTHER), 384), or None when the classifier has no "other" texts
    lexical: Prepared


def route_texts(route: Route) -> list[str]:
    return [f"{route.name.replace('_', ' ')}: {route.description}", *route.examples]


class EmbeddingClassifier(LocalClassifier):
    """all-MiniLM-L6-v2 cosine plus `lexical_weight` x log(1 + BM25).

    The best route wins when its score clears both `threshold` (a floor) and the cosine of the
    closest `other` text plus `margin`; otherwise no match. `other=()` leaves the floor alone.

    The lexical score is log-damped: raw BM25 grows with every repeated cue word (0-10 on the
    dev split), so a linear nudge either drowns the cosine on wordy prompts or vanishes on short
    ones; log(1 + BM25) stays within ~0-2.4. Text in another language also needs a lexical cue
    for its route (see `classify`). docs/intent-classifier.md has the measurements.
    """

    name = "embedding"

    def __init__(self, *, threshold: float = THRESHOLD, lexical_weight: float = 0.3,
                 other: Sequence[str] = OTHER, margin: float = MARGIN,
                 encoder: Any = None, cache_size: int = 64) -> None:
        super().__init__(cache_size=cache_size)
        self.threshold, self.lexical_weight = threshold, lexical_weight
        self.other, self.margin = tuple(other), margin
        self._encoder = encoder
        # BM25 scores carry the multilingual and domain cues MiniLM (English-centric) misses.
        self.lexical = LexicalClassifier(cache_size=cache_size)

    @property
    def encoder(self) -> Any:
        if self._encoder is None:
            from .encoder import shared_encoder

            self._encoder = shared_encoder()
        return self._encoder

    def _build(self, routes: tuple[Route, ...]) -> Prepared:
        texts, owners = [], []
        for i, route in enumerate(routes):
            for text in route_texts(route):
                texts.append(text)
                owners.append(i)
        from .encoder import MODEL_TOKENS

        matrix = self.encoder.encode(texts, max_tokens=MODEL_TOKENS)  # queries are cut shorter
        other = self.encoder.encode(list(self.other), max_tokens=MODEL_TOKENS) if self.other else None
        return Prepared(routes, _Vectors(matrix, tuple(owners), other, self.lexical.prepare(routes)))

    def query_text(self, messages: list[dict[str, Any]]) -> str:
        query = conversation_query(messages, context_turns=1)
        text = query.latest
        if len(text.split()) < SHORT_TURN_WORDS and query.context:
            text = f"{query.context[-1]} {text}"
        folded, words = raw_words(text)
        cues = glosses(folded, words) if not folded.isascii() else []
        return " ".join([text, *cues]) if text else ""

    def classify(self, prepared: Prepared, messages: list[dict[str, Any]]) -> Match:
        vectors: _Vectors = prepared.data
        text = self.query_text(messages)
        if not text:
            return Match(None, 0.0, {route.name: 0.0 for route in prepared.routes})
        query = self.encoder.encode([text])[0]
        similarities = (vectors.matrix @ query).tolist()
        best_row: dict[int, float] = {}
        for owner, similarity in zip(vectors.owners, similarities):
            best_row[owner] = max(best_row.get(owner, -1.0), similarity)
        lexical = self.lexical.classify(vectors.lexical, messages).scores
        scores = {
            route.name: best_row[i] + self.lexical_weight * math.log1p(lexical[route.name])
            for i, route in enumerate(prepared.routes)
        }
        best = max(scores, key=scores.__getitem__)
        if not lexical[best] and is_foreign(*raw_words(text)):
            # MiniLM reads little beyond English: on another language its cosine alone is noise
            # (any foreign text sits near "translation"), so the winner needs a cue word too.
            return Match(None, scores[best], scores)
        bar = self.threshold
        if vectors.other is not None:
            bar = max(bar, float((vectors.other @ query).max()) + self.margin)
        return Match(best if scores[best] >= bar else None, scores[best], scores)

