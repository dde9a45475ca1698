"""BM25 matcher over each route's name, description and examples: no model, always available."""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from typing import Any

from .base import LocalClassifier, Match, Prepared, Route
from .conversation import CODE_MARKER, ERROR_MARKER, conversation_query
from .text import GLOSS_WORDS, deletes, raw_words, split_topic, terms

THRESHOLD = 1.2  # BM25 score a match needs (tuned on dev)
CONTEXT_WEIGHT = 0.3  # earlier user turns count, but far less than the latest one
MIN_DOCS = 4  # IDF as if there were at least this many routes (see _build)


@dataclass(frozen=True)
class _Index:
    tf: tuple[Counter[str], ...]
    lengths: tuple[int, ...]
    avg_length: float
    idf: dict[str, float]
    vocabulary: frozenset[str]
    neighbours: dict[str, str]


class LexicalClassifier(LocalClassifier):
    """Okapi BM25 with routes as documents; the top route wins if its score clears `threshold`."""

    name = "lexical"

    def __init__(self, *, threshold: float = THRESHOLD, k1: float = 1.2, b: float = 0.5,
                 topic_weight: float = 0.2, cache_size: int = 64) -> None:
        super().__init__(cache_size=cache_size)
        self.threshold, self.k1, self.b, self.topic_weight = threshold, k1, b, topic_weight

    def _build(self, routes: tuple[Route, ...]) -> Prepared:
        docs = [" ".join((r.name.replace("_", " "), r.description, *r.examples)) for r in routes]
        words = {w for doc in docs for w in raw_words(doc)[1]} | GLOSS_WORDS
        vocabulary = frozenset(w for w in words if w.isalpha())
        neighbours = {d: w for w in vocabulary if len(w) >= 5 for d in deletes(w)}
        tf = tuple(Counter(terms(doc)) for doc in docs)
        df = Counter(term for counts in tf for term in counts)
        n = len(docs)
        # With one to three routes every term is "common", so plain BM25 weights sink under
        # the threshold and nothing ever matches: score as if there were at least MIN_DOCS
        # routes (the rest empty). Larger sets, where the threshold was tuned, are unchanged.
        n_idf = max(n, MIN_DOCS)
        idf = {t: math.log(1 + (n_idf - f + 0.5) / (f + 0.5)) for t, f in df.items()}
        lengths = tuple(sum(c.values()) for c in tf)
        index = _Index(tf, lengths, sum(lengths) / n, idf, vocabulary, neighbours)
        return Prepared(routes, index)

    def _weights(self, index: _Index, texts: tuple[str, ...], markers: str = "") -> dict[str, float]:
        weights: dict[str, float] = {}
        for text in texts:
            for term in terms(text, vocabulary=index.vocabulary, neighbours=index.neighbours):
                weights[term] = weights.get(term, 0.0) + 1.0
        for term in terms(markers):
            weights[term] = max(weights.get(term, 0.0), 1.0)
        return weights

    def _bm25(self, prepared: Prepared, weights: dict[str, float]) -> dict[str, float]:
        index: _Index = prepared.data
        scores: dict[str, float] = {}
        for route, tf, length in zip(prepared.routes, index.tf, index.lengths):
            norm = self.k1 * (1 - self.b + self.b * length / index.avg_length)
            scores[route.name] = sum(
                q * index.idf[t] * tf[t] * (self.k1 + 1) / (tf[t] + norm)
                for t, q in weights.items() if t in tf
            )
        return scores

    def classify(self, prepared: Prepared, messages: list[dict[str, Any]]) -> Match:
        query = conversation_query(messages)
        markers = (CODE_MARKER if query.had_code else "") + " " + (ERROR_MARKER if query.had_trace else "")
        task, topic = split_topic(query.latest)
        scores = self._bm25(prepared, self._weights(prepared.data, (task,), markers))
        if topic or query.material:
            # "a poem about recursion", or an email pasted under "shorten this": what the text is
            # about counts fully only when the instruction itself names no route.
            weight = 1.0 if max(scores.values()) < self.threshold else self.topic_weight
            about = self._bm25(prepared, self._weights(prepared.data, (topic, query.material)))
            scores = {name: score + weight * about[name] for name, score in scores.items()}
        if query.context:
            # Context breaks ties and rescues terse follow-ups; it never outvotes a clear latest turn.
            weight = CONTEXT_WEIGHT if max(scores.values()) < self.threshold else CONTEXT_WEIGHT / 3
            context = self._bm25(prepared, self._weights(prepared.data, query.context))
            scores = {name: score + weight * context[name] for name, score in scores.items()}
        best = max(scores, key=scores.__getitem__)
        top = scores[best]
        return Match(best if top >= self.threshold else None, top, scores)
