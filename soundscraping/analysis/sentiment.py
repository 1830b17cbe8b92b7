"""Comment sentiment: VADER with a music-comment lexicon, behind a language gate.

The model is ``vaderSentiment`` (its lexicon ships inside the package) with
the entries of ``music_lexicon.tsv`` (beside this module, read with
importlib.resources so it works inside a Scrapyd egg) laid over it: field
slang that VADER misreads ("sick", "insane", "killer", 🔥) and words it does
not know ("banger", "mid").  Each entry says why it is there.

VADER's lexicon is English, so a comment is scored only when it is English
or has no words at all:

- **No body** (NULL): no language, no score.
- **No letters** (emoji only, timestamps, punctuation, empty): language
  ``zxx`` (ISO 639-2 "no linguistic content"), scored from the emoji alone
  (🔥🔥 is praise in any language); nothing scorable gives 0, ``neutral``.
- **At least two thirds of the words known English** (VADER's lexicon, the
  music lexicon, or ``english_words.txt``): ``en`` without asking the
  detector, which guesses wildly on one or two words (lingua reads "Tune" as
  Finnish) and does not know the field's slang.
- **Otherwise** lingua decides among ``DETECTOR_LANGUAGES``.  Any language
  but English gets its ISO 639-1 code and a NULL score and label: no score
  rather than a wrong one.

Before scoring, URLs and @mentions are removed (a username is not an
opinion), variation selectors and zero-width joiners are dropped (VADER
misses "❤️" otherwise), letters repeated three times or more are collapsed to
a known word ("tuuuune" -> "tune") and the lexicon's phrases become single
tokens ("goes hard").  Labels use VADER's own thresholds: compound >= 0.05
positive, <= -0.05 negative, else neutral.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from importlib import metadata, resources
from typing import Any

NO_LANGUAGE = "zxx"  # ISO 639-2: no linguistic content
SCORED_LANGUAGES = frozenset({"en", NO_LANGUAGE})
POSITIVE_THRESHOLD = 0.05  # VADER's recommended compound thresholds
NEGATIVE_THRESHOLD = -0.05
ENGLISH_SHARE = 2 / 3  # known-English share of words that overrides the detector

# The languages lingua chooses among: those common in SoundCloud comments.
# Its cost grows with the Latin-script candidates (other scripts are told
# apart by their alphabet first, at no cost), so those are kept to twelve;
# a comment in a Latin-script language not listed lands on a listed
# non-English one and still gets NULL (the gate only needs "English or not").
DETECTOR_LANGUAGES = (
    "ENGLISH", "SPANISH", "PORTUGUESE", "FRENCH", "GERMAN", "ITALIAN", "DUTCH", "SWEDISH", "POLISH", "TURKISH",
    "INDONESIAN", "TAGALOG",
    "RUSSIAN", "UKRAINIAN", "GREEK", "HEBREW", "ARABIC", "PERSIAN", "HINDI", "JAPANESE", "CHINESE", "KOREAN", "THAI",
)

_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_MENTION = re.compile(r"(?<![\w@])@[\w.\-]+")
_INVISIBLE = re.compile("[\ufe0e\ufe0f\u200d]")  # variation selectors, zero-width joiner
_APOSTROPHES = re.compile("[\u2018\u2019\u02bc`]")
_WORD = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)*")
_WORD_OR_PHRASE = re.compile(r"[^\W\d_]+(?:['_][^\W\d_]+)*")  # a phrase token is one word
_ELONGATED = re.compile(r"([^\W\d_])\1{2,}")


@dataclass(frozen=True)
class LexiconEntry:
    entry: str
    valence: float
    reason: str

    @property
    def kind(self) -> str:
        if " " in self.entry:
            return "phrase"
        return "word" if _WORD.fullmatch(self.entry) else "emoji"

    @property
    def token(self) -> str:
        """What VADER sees: the word itself, or one token standing for the
        phrase or emoji."""
        if self.kind == "word":
            return self.entry.lower()
        if self.kind == "phrase":
            return "_".join(w.replace("'", "") for w in self.entry.lower().split())
        return f"emoji_{ord(self.entry):x}"


@dataclass(frozen=True)
class Score:
    compound: float | None  # None: a language the model does not cover
    label: str | None
    language: str | None  # ISO 639-1, or "zxx" for a comment without words


def _data(name: str) -> str:
    return resources.files(__package__).joinpath(name).read_text(encoding="utf-8")


def parse_lexicon(text: str) -> list[LexiconEntry]:
    """Entries of a lexicon file (``entry<TAB>valence<TAB>reason``; ``#``
    comments); an entry without a reason or with a valence off VADER's
    -4..+4 scale is refused."""
    entries = []
    for number, line in enumerate(text.splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split("\t")
        if len(parts) != 3 or not parts[2].strip():
            raise ValueError(f"lexicon line {number}: want entry<TAB>valence<TAB>reason, got {line!r}")
        entry = LexiconEntry(parts[0].strip(), float(parts[1]), parts[2].strip())
        if not -4 <= entry.valence <= 4:
            raise ValueError(f"lexicon line {number}: valence {entry.valence} is off VADER's -4..+4 scale")
        if entry.kind == "emoji" and len(entry.entry) != 1:
            raise ValueError(f"lexicon line {number}: an emoji entry is one code point, got {entry.entry!r}")
        entries.append(entry)
    return entries


def music_lexicon() -> list[LexiconEntry]:
    return parse_lexicon(_data("music_lexicon.tsv"))


def label_of(compound: float) -> str:
    if compound >= POSITIVE_THRESHOLD:
        return "positive"
    if compound <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def vader_version() -> str:
    return metadata.version("vaderSentiment")


def music_model_version(entries: Iterable[LexiconEntry] | None = None) -> str:
    """``vader-<version>+music-<digest>``: the digest covers the lexicon, the
    English vocabulary and the gate's settings, so any change to them makes
    ``soundscraping sentiment`` rescore every comment.  Computed without
    loading VADER (``moments`` needs only the name)."""
    digest = hashlib.sha256()
    for entry in music_lexicon() if entries is None else entries:
        digest.update(f"{entry.entry}\t{entry.valence}\n".encode())
    digest.update(_data("english_words.txt").encode())
    digest.update(repr((DETECTOR_LANGUAGES, ENGLISH_SHARE, POSITIVE_THRESHOLD, NEGATIVE_THRESHOLD)).encode())
    return f"vader-{vader_version()}+music-{digest.hexdigest()[:10]}"


class PlainVader:
    """Unmodified VADER on the raw text, every comment scored (the baseline)."""

    def __init__(self) -> None:
        from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

        self.analyzer = SentimentIntensityAnalyzer()
        self.version = f"vader-{vader_version()}"

    def score_many(self, texts: Sequence[str | None]) -> list[Score]:
        out = []
        for text in texts:
            compound = self.analyzer.polarity_scores(text or "")["compound"]
            out.append(Score(compound, label_of(compound), None))
        return out


class MusicSentiment:
    """The extended model.  ``score_many`` is the fast path: language
    detection runs on lingua's threads over the whole batch."""

    def __init__(self, lexicon: Iterable[LexiconEntry] | None = None) -> None:
        from vaderSentiment.vaderSentiment import BOOSTER_DICT, NEGATE, SentimentIntensityAnalyzer

        self.entries = list(music_lexicon() if lexicon is None else lexicon)
        self.analyzer = SentimentIntensityAnalyzer()
        for entry in self.entries:
            self.analyzer.lexicon[entry.token] = entry.valence
            if entry.kind == "emoji":
                self.analyzer.emojis[entry.entry] = entry.token
        phrases = sorted((e for e in self.entries if e.kind == "phrase"), key=lambda e: -len(e.entry))
        self._phrase_tokens = {e.entry.lower(): e.token for e in phrases}
        self._phrases = re.compile(
            r"(?<![\w'])(" + "|".join(re.escape(e.entry).replace(r"\ ", r"\s+") for e in phrases) + r")(?![\w'])",
            re.IGNORECASE) if phrases else None
        english = {w for line in _data("english_words.txt").splitlines() if not line.startswith("#")
                   for w in line.lower().split()}
        vader_words = {w for w in (*self.analyzer.lexicon, *BOOSTER_DICT, *NEGATE) if _WORD.fullmatch(w)}
        self.vocabulary = frozenset(english | vader_words
                                    | {e.token for e in self.entries if e.kind != "emoji"})
        self.version = music_model_version(self.entries)

    @cached_property
    def detector(self) -> Any:
        """lingua, restricted to ``DETECTOR_LANGUAGES``; its models load
        lazily on first use (they ship inside the wheel)."""
        from lingua import Language, LanguageDetectorBuilder

        return LanguageDetectorBuilder.from_languages(*(getattr(Language, n) for n in DETECTOR_LANGUAGES)).build()

    # --- text preparation -------------------------------------------------
    def _unelongate(self, word: str) -> str:
        if not _ELONGATED.search(word):
            return word
        for repeat in (1, 2):
            candidate = _ELONGATED.sub(lambda m, r=repeat: m.group(1) * r, word)
            if candidate.lower() in self.vocabulary:
                return candidate
        return _ELONGATED.sub(lambda m: m.group(1) * 2, word)

    def clean(self, text: str) -> str:
        """The text VADER scores (see the module docstring)."""
        text = _INVISIBLE.sub("", _APOSTROPHES.sub("'", text))
        text = _MENTION.sub(" ", _URL.sub(" ", text))
        text = _WORD.sub(lambda m: self._unelongate(m.group(0)), text)
        if self._phrases is not None:
            text = self._phrases.sub(lambda m: f" {self._phrase_tokens[' '.join(m.group(0).lower().split())]} ",
                                     text)
        return text

    def polarity(self, cleaned: str) -> float:
        return float(self.analyzer.polarity_scores(cleaned)["compound"])

    # --- language gate -----------------------------------------------------
    @staticmethod
    def words(cleaned: str) -> list[str]:
        """The words of a cleaned text (a phrase token counts as one word)."""
        return _WORD_OR_PHRASE.findall(cleaned.lower())

    def _known_share(self, words: list[str]) -> float:
        return sum(w in self.vocabulary for w in words) / len(words)

    def score_many(self, texts: Sequence[str | None]) -> list[Score]:
        cleaned = [self.clean(t or "") for t in texts]
        languages: list[str | None] = [None] * len(cleaned)
        undecided: list[int] = []
        for i, text in enumerate(cleaned):
            if texts[i] is None:
                continue  # no body (deleted or not returned): nothing to score
            words = self.words(text)
            if not words:
                languages[i] = NO_LANGUAGE
            elif self._known_share(words) >= ENGLISH_SHARE:
                languages[i] = "en"  # mostly known English: the detector is not asked
            else:
                undecided.append(i)
        if undecided:
            # The detector sees the words only: no emoji, digits, URLs or mentions.
            detected = self.detector.detect_languages_in_parallel_of(
                [" ".join(self.words(cleaned[i])) for i in undecided])
            for i, language in zip(undecided, detected, strict=True):
                languages[i] = language.iso_code_639_1.name.lower() if language is not None else "und"
        out = []
        for text, language in zip(cleaned, languages, strict=True):
            if language in SCORED_LANGUAGES:
                compound = self.polarity(text)
                out.append(Score(compound, label_of(compound), language))
            else:
                out.append(Score(None, None, language))
        return out

    def score(self, text: str | None) -> Score:
        return self.score_many([text])[0]
