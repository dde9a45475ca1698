"""Normalisation for the lexical matcher: accent folding, tokens, a light stemmer, cue glosses and typo repair."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from functools import lru_cache

from .lexicon import GLOSSES

_DIACRITICS = re.compile("[\u0300-\u036f]")
_WORD = re.compile(r"[a-z0-9][a-z0-9+#'-]*")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]+")
# French and Italian elided articles and pronouns: "l'integrale" is the word "integrale".
_ELISION = re.compile(r"^(?:l|d|j|n|s|c|m|t|qu|un|all|dall|dell|nell|sull)'(?=[a-z])")
ENGLISH_STOPWORDS = frozenset(
    "a an the and or but if of to in on at by for with from into onto about as is are was were be been "
    "being it its this that these those there here i me my mine we our you your he she they them their "
    "what which who whom how why when where can could would should will shall may might must do does did "
    "done doing have has had having not no so too very just also any some all more most other such than "
    "then now up out over under again once only own same few both each new one two three please pls thanks "
    "thank hi hello ok okay want need like get got give make let tell help am im i'm it's don't can't "
    "another else something anything".split()
)
OTHER_STOPWORDS = frozenset(  # es, fr, de, it, pt
    "el la los las un una de del y o que en por para con es mi tu su se lo al como le les des et ou du "
    "est une pour dans avec ce sur pas je il der die das und ein eine ist zu mit den dem von nicht ich "
    "bitte mir mich wer hat auch sie wie ho di che non per sono gia da em um uma os com "
    "nao voce meu minha qual quando".split()
)
STOPWORDS = ENGLISH_STOPWORDS | OTHER_STOPWORDS


# "Write a poem about recursion": what follows a topic marker is what the text is about, not the task.
_TOPIC = re.compile(
    r"\s(?:about|regarding|concerning|where|in which|featuring|sobre|acerca de|donde|sur|a propos de|"
    r"uber|über|wo|su|sul|sulla|riguardo|dove)\s|关于|について",
    re.I,
)
TOPIC_MIN_WORDS = 2  # "About my invoice..." or "What about..." is not a task followed by a topic


def split_topic(text: str) -> tuple[str, str]:
    """(task, topic): the text before its first topic marker, and the rest ('' when there is none)."""
    for match in _TOPIC.finditer(text):
        if len(text[:match.start()].split()) >= TOPIC_MIN_WORDS or not text[:match.start()].isascii():
            return text[:match.start()], text[match.start():]
    return text, ""


def fold(text: str) -> str:
    """Lowercase, NFKC, Latin and Cyrillic accents removed (so 'übersetze' and 'ubersetze' meet).

    Only the combining diacritics block goes: kana voicing marks and Hangul jamo recompose, so
    'バグ' stays 'バグ' and Korean stays syllables.
    """
    text = unicodedata.normalize("NFD", unicodedata.normalize("NFKC", text).lower())
    return unicodedata.normalize("NFC", _DIACRITICS.sub("", text))


@lru_cache(maxsize=8192)
def stem(word: str) -> str:
    """Crude suffix stripping then truncation to six letters: enough to join translate/translation."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    for suffix in ("ations", "ation", "ings", "ing", "ised", "ized", "ise", "ize", "ers", "er", "ed", "es",
                   "s", "e", "ly", "y"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith("ss"):
            word = word[: -len(suffix)]
            break
    if len(word) > 3 and word[-1] == word[-2]:
        word = word[:-1]
    return word[:6]


def _split_glosses() -> tuple[dict[str, str], dict[str, str], list[tuple[str, str]]]:
    exact, prefix, substring = {}, {}, []
    for key, value in GLOSSES.items():
        folded = fold(key)
        if not folded.isascii() or not re.fullmatch(r"[a-z0-9]+", folded):
            substring.append((folded, value))
        elif len(folded) <= 4:
            exact[folded] = value
        else:
            prefix[folded] = value
    return exact, prefix, substring


_EXACT, _PREFIX, _SUBSTRING = _split_glosses()
_PREFIX_BY_HEAD: dict[str, list[tuple[str, str]]] = {}
for _key, _value in _PREFIX.items():
    _PREFIX_BY_HEAD.setdefault(_key[:4], []).append((_key, _value))
GLOSS_WORDS = frozenset(_EXACT) | frozenset(_PREFIX)


def glosses(folded: str, words: Iterable[str]) -> list[str]:
    """English cue words for the foreign or specific intent words found in the text."""
    found: list[str] = []
    for word in words:
        singular = word[:-1] if word.endswith("s") else word
        if word in _EXACT or singular in _EXACT:
            found.append(_EXACT.get(word) or _EXACT[singular])
        for key, value in _PREFIX_BY_HEAD.get(word[:4], ()):
            if word.startswith(key):
                found.append(value)
    found.extend(value for key, value in _SUBSTRING if key in folded)
    return found


def deletes(word: str) -> set[str]:
    return {word[:i] + word[i + 1:] for i in range(len(word))}


def correct(word: str, vocabulary: frozenset[str], neighbours: dict[str, str]) -> str:
    """Repair a one-letter typo against the known vocabulary (symmetric-delete lookup)."""
    if len(word) < 5 or word in vocabulary or not word.isalpha():
        return word
    if word in neighbours:
        return neighbours[word]
    for candidate in deletes(word):
        if candidate in vocabulary:
            return candidate
        if candidate in neighbours:
            return neighbours[candidate]
    return word


def raw_words(text: str) -> tuple[str, list[str]]:
    folded = fold(text)
    return folded, [_ELISION.sub("", w).strip("'-") for w in _WORD.findall(folded)]


def terms(text: str, *, vocabulary: frozenset[str] = frozenset(),
          neighbours: dict[str, str] | None = None) -> list[str]:
    """Stemmed content terms of `text`, its English cue glosses, and CJK character bigrams."""
    folded, words = raw_words(text)
    if neighbours is not None:
        words = [correct(w, vocabulary, neighbours) for w in words]
    extra = glosses(folded, words)
    out = [stem(w) for w in words if w not in STOPWORDS and len(w) > 1]
    for gloss in extra:
        out.extend(stem(w) for w in gloss.split())
    for run in _CJK.findall(folded):
        out.extend(run[i:i + 2] for i in range(max(1, len(run) - 1)))
    return out


def is_foreign(folded: str, words: list[str]) -> bool:
    """Not English: mostly non-Latin letters, or more es/fr/de/it/pt function words than English ones."""
    letters = [ch for ch in folded if ch.isalpha()]
    if letters and sum(not ("a" <= ch <= "z") for ch in letters) > 0.3 * len(letters):
        return True
    return sum(w in OTHER_STOPWORDS for w in words) > sum(w in ENGLISH_STOPWORDS for w in words)
