"""Comparing estimates with labels: key names, key relations and the MIREX
weighted key score, tempo Accuracy1/Accuracy2.  Pure Python (no audio stack).

Key relations of an estimate to the reference (MIREX 2005 key detection, as
mir_eval implements it by default):

- ``same``: same tonic and mode (score 1.0);
- ``fifth``: same mode, tonic a perfect fifth ABOVE the reference (0.5; MIREX
  does not count the fifth below: ``descending_fifths=True`` does);
- ``relative``: the relative major/minor (0.3);
- ``parallel``: same tonic, other mode (0.2);
- ``other``: anything else (0)."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_ALIASES = {"Db": "C#", "D#": "Eb", "Gb": "F#", "G#": "Ab", "A#": "Bb", "Cb": "B", "Fb": "E", "E#": "F", "B#": "C"}
RELATIONS = ("same", "fifth", "relative", "parallel", "other")
MIREX_WEIGHTS = {"same": 1.0, "fifth": 0.5, "relative": 0.3, "parallel": 0.2, "other": 0.0}
TEMPO_TOLERANCE = 0.04
OCTAVE_FACTORS = (1.0, 2.0, 3.0, 1 / 2, 1 / 3)

_KEY = re.compile(r"^\s*([A-Ga-g])\s*([#♯b♭]?)\s*(maj(?:or)?|min(?:or)?|m)?\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class Key:
    tonic: int  # pitch class, C = 0
    mode: str  # major | minor

    @property
    def name(self) -> str:
        return f"{PITCH_CLASSES[self.tonic]} {self.mode}"


def parse_key(text: str | None, scale: str | None = None) -> Key | None:
    """A key from Beatport's ``key_name`` ("Ab Minor", "F# Major", "Gb
    Minor") or essentia's (tonic "Ab" with scale "minor"); None when it is
    not a key."""
    if not text:
        return None
    if scale:
        text = f"{text} {scale}"
    parts = text.strip().split()
    note = parts[0]
    mode_word = parts[1] if len(parts) > 1 else ""
    m = _KEY.match(f"{note} {mode_word}".strip()) if len(parts) <= 2 else None
    if m is None:
        return None
    letter, accidental, mode = m.group(1).upper(), m.group(2), (m.group(3) or "").lower()
    accidental = {"♯": "#", "♭": "b"}.get(accidental, accidental)
    if not mode:
        return None  # a key without a mode cannot be scored
    name = letter + accidental
    name = _ALIASES.get(name, name)
    if name not in PITCH_CLASSES:
        return None
    return Key(PITCH_CLASSES.index(name), "major" if mode.startswith("maj") else "minor")


def relation(estimate: Key, reference: Key, *, descending_fifths: bool = False) -> str:
    up = (estimate.tonic - reference.tonic) % 12
    if estimate.mode == reference.mode:
        if up == 0:
            return "same"
        if up == 7 or (descending_fifths and up == 5):
            return "fifth"
        return "other"
    if up == 0:
        return "parallel"
    if (reference.mode == "major" and up == 9) or (reference.mode == "minor" and up == 3):
        return "relative"
    return "other"


def tempo_ok(estimate: float, reference: float, factors: tuple[float, ...] = (1.0,),
             tolerance: float = TEMPO_TOLERANCE) -> bool:
    """Within ``tolerance`` (relative) of ``reference`` times one of ``factors``."""
    return any(abs(estimate - reference * f) <= tolerance * reference * f for f in factors)


@dataclass(frozen=True)
class Comparison:
    tempo_pairs: int
    accuracy1: float | None
    accuracy2: float | None
    key_pairs: int
    mirex_score: float | None
    relations: dict[str, int]
    tempo_errors: dict[str, int]  # which octave factor explained an Accuracy2 hit (x1, x2, ...), or "miss"


def _factor_name(f: float) -> str:
    return f"x{f:g}" if f >= 1 else f"x1/{round(1 / f)}"


def compare(pairs_bpm: list[tuple[float, float]], pairs_key: list[tuple[Key, Key]]) -> Comparison:
    """``pairs_bpm``: (estimate, label); ``pairs_key``: (estimate, label)."""
    tempo_errors: Counter[str] = Counter()
    hit1 = hit2 = 0
    for estimate, label in pairs_bpm:
        if tempo_ok(estimate, label):
            hit1 += 1
        for f in OCTAVE_FACTORS:
            if tempo_ok(estimate, label, (f,)):
                hit2 += 1
                tempo_errors[_factor_name(f)] += 1
                break
        else:
            tempo_errors["miss"] += 1
    relations = Counter(relation(e, r) for e, r in pairs_key)
    n_t, n_k = len(pairs_bpm), len(pairs_key)
    return Comparison(
        tempo_pairs=n_t, accuracy1=hit1 / n_t if n_t else None, accuracy2=hit2 / n_t if n_t else None,
        key_pairs=n_k, mirex_score=sum(MIREX_WEIGHTS[r] * c for r, c in relations.items()) / n_k if n_k else None,
        relations={r: relations.get(r, 0) for r in RELATIONS}, tempo_errors=dict(tempo_errors))
