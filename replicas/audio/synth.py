"""Clips with a known tempo and key: a four-on-the-floor kit (kick on every
beat, clap on 2 and 4, closed hi-hat on the off-beats) under a one-chord-per-
bar progression with a bass note (minor: i-VI-iv-V with the raised leading
tone; major: I-IV-V-I), MP3-encoded like Beatport's LOFI previews (128 kb/s
stereo, 44.1 kHz [I: the real bitrate is not documented]).

Deterministic: the same (tempo, key, seconds, seed) always gives the same
samples."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import lameenc
import numpy as np

SAMPLE_RATE = 44100
PITCH_CLASSES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")
_ALIASES = {"Db": "C#", "D#": "Eb", "Gb": "F#", "G#": "Ab", "A#": "Bb", "Cb": "B", "Fb": "E", "E#": "F", "B#": "C"}
# Semitones above the tonic of each bar's triad.
_PROGRESSIONS = {"minor": ((0, 3, 7), (8, 12, 15), (5, 8, 12), (7, 11, 14)),
                 "major": ((0, 4, 7), (5, 9, 12), (7, 11, 14), (0, 4, 7))}


@dataclass(frozen=True)
class Clip:
    bpm: float
    tonic: str  # one of PITCH_CLASSES
    scale: str  # minor | major
    seconds: float
    seed: int = 0


def pitch_class(name: str) -> int:
    name = name.strip()
    return PITCH_CLASSES.index(_ALIASES.get(name, name))


@cache
def _drums(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.arange(int(0.25 * SAMPLE_RATE)) / SAMPLE_RATE
    kick = np.sin(2 * np.pi * np.cumsum(50 + 100 * np.exp(-t * 30)) / SAMPLE_RATE) * np.exp(-t * 10)
    n = int(0.05 * SAMPLE_RATE)
    hat = np.diff(rng.standard_normal(n) * np.exp(-np.arange(n) / SAMPLE_RATE * 80), prepend=0.0) * 0.3
    n = int(0.15 * SAMPLE_RATE)
    tc = np.arange(n) / SAMPLE_RATE
    clap = (rng.standard_normal(n) * 0.5 + np.sin(2 * np.pi * 200 * tc)) * np.exp(-tc * 25) * 0.5
    return kick, hat, clap


def _add(out: np.ndarray, sound: np.ndarray, at_s: float, gain: float) -> None:
    i = round(at_s * SAMPLE_RATE)
    if 0 <= i < len(out):
        m = min(len(sound), len(out) - i)
        out[i:i + m] += gain * sound[:m]


def render_parts(clip: Clip) -> dict[str, np.ndarray]:
    """The clip's parts (kick, clap, hihat, chords, bass), float64, unnormalised."""
    n = int(clip.seconds * SAMPLE_RATE)
    parts = {name: np.zeros(n) for name in ("kick", "clap", "hihat", "chords", "bass")}
    beat = 60.0 / clip.bpm
    kick, hat, clap = _drums(clip.seed)
    for b in range(int(clip.seconds / beat) + 1):
        _add(parts["kick"], kick, b * beat, 0.9)
        _add(parts["hihat"], hat, (b + 0.5) * beat, 0.5)
        if b % 4 in (1, 3):
            _add(parts["clap"], clap, b * beat, 0.6)
    bar = 4 * beat
    t = np.arange(int(bar * SAMPLE_RATE)) / SAMPLE_RATE
    envelope = np.minimum(1.0, t / 0.02) * np.exp(-t * 0.8)
    root = 48 + pitch_class(clip.tonic)  # MIDI: C3 = 48
    progression = _PROGRESSIONS[clip.scale]
    for k in range(int(clip.seconds / bar) + 1):
        chord = progression[k % len(progression)]
        tone = np.zeros_like(t)
        for step in chord:
            f = 440.0 * 2 ** ((root + 12 + step - 69) / 12)
            for h in range(1, 5):
                tone += np.sin(2 * np.pi * f * h * t) / h ** 1.5
        _add(parts["chords"], tone * envelope, k * bar, 0.12)
        bass = 1.2 * np.sin(2 * np.pi * 440.0 * 2 ** ((root - 12 + chord[0] - 69) / 12) * t)
        _add(parts["bass"], bass * envelope, k * bar, 0.12)
    return parts


def render(clip: Clip) -> np.ndarray:
    """Mono float32 samples in [-1, 1]: the parts summed."""
    out = sum(render_parts(clip).values())
    out /= np.max(np.abs(out)) * 1.1
    return out.astype(np.float32)


def encode_mp3(samples: np.ndarray, *, bitrate: int = 128, sample_rate: int = SAMPLE_RATE) -> bytes:
    """MP3 bytes of mono (n,) or stereo (n, 2) float samples."""
    pcm = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16)
    if pcm.ndim == 1:
        pcm = np.stack([pcm, pcm], axis=1)
    encoder = lameenc.Encoder()
    encoder.set_bit_rate(bitrate)
    encoder.set_in_sample_rate(sample_rate)
    encoder.set_channels(pcm.shape[1])
    encoder.set_quality(7)  # fast; 2 is LAME's best
    return bytes(encoder.encode(np.ascontiguousarray(pcm).tobytes()) + encoder.flush())


def clip_mp3(clip: Clip) -> bytes:
    return encode_mp3(render(clip))
