"""Intent classification for routing preferences: which route, if any, a conversation asks for."""

from .base import Classifier, Match, Prepared, PreparedCache, Route
from .factory import classifier_from_settings, embedding_available
from .lexical import LexicalClassifier

__all__ = [
    "Classifier", "LexicalClassifier", "Match", "Prepared", "PreparedCache", "Route",
    "classifier_from_settings", "embedding_available",
]
