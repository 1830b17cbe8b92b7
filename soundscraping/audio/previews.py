"""Tempo, key and loudness of one clip, with essentia's own algorithms:

- tempo: ``RhythmExtractor2013`` (``degara`` beat tracker: the
  ``multifeature`` one is about 3x slower and, on four-on-the-floor clips,
  no more accurate) inside a dance-music tempo range (``MIN_BPM``-``MAX_BPM``:
  Beatport's genres sit there, and the range settles the octave the tracker
  is unsure of); the BPM is then read from the beat ticks by least squares
  (ticks are placed at frame resolution; the tracker's own BPM is a histogram
  peak that is often 1-2 BPM off on a steady electronic tempo);
- key: ``KeyExtractor`` with the ``edma`` profile (electronic dance music);
- loudness: ``LoudnessEBUR128`` (integrated loudness, LUFS, and loudness range).

Tempo and loudness are measured on the middle ``WINDOW_S`` (60) seconds of a
longer clip, the key on the whole clip.  Those two cost about 0.6 and 0.75
CPU-seconds on a whole two-minute preview (the key 0.1): a minute is enough
for a steady dance tempo (~120 beats for the least-squares fit) and for the
gated integrated loudness, and it halves their cost, which is what brings
100 previews under a minute on two cores (README).  The middle also skips a
preview's fade-in and fade-out.

Audio is decoded with soundfile (libsndfile's mpg123: MP3, WAV, FLAC, OGG),
straight from bytes.  Every algorithm runs at 44.1 kHz; other rates are
resampled first."""

from __future__ import annotations

import io
from dataclasses import dataclass

import essentia
import essentia.standard as es
import numpy as np
import soundfile

essentia.log.infoActive = False  # essentia prints an INFO line per algorithm otherwise
essentia.log.warningActive = False

ANALYSER = "essentia"
# Bump when the analysis changes: rows of another version are analysed again.
REVISION = 2  # 2: tempo and loudness on the middle WINDOW_S seconds
SAMPLE_RATE = 44100
MIN_BPM = 88
MAX_BPM = 185
KEY_PROFILE = "edma"
WINDOW_S = 60.0  # tempo and loudness: the middle minute of a longer clip


def analyser_version(min_bpm: int = MIN_BPM, max_bpm: int = MAX_BPM) -> str:
    return (f"{REVISION}; essentia {essentia.__version__}; degara {min_bpm}-{max_bpm}; key {KEY_PROFILE}; "
            f"window {WINDOW_S:g} s")


@dataclass(frozen=True)
class ClipFeatures:
    bpm: float | None
    bpm_confidence: float | None
    key: str | None
    scale: str | None
    key_strength: float | None
    loudness_lufs: float | None
    loudness_range_lu: float | None
    duration_s: float


class UndecodableAudio(ValueError):
    """The bytes are not audio soundfile can decode (or hold no samples)."""


def decode(data: bytes) -> tuple[np.ndarray, int]:
    """(samples as float32 (n, channels), sample rate)."""
    try:
        samples, rate = soundfile.read(io.BytesIO(data), dtype="float32", always_2d=True)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        raise UndecodableAudio(f"not decodable audio: {exc}") from exc
    if samples.size == 0:
        raise UndecodableAudio("no samples")
    return samples, int(rate)


def to_analysis_rate(samples: np.ndarray, rate: int) -> np.ndarray:
    if rate == SAMPLE_RATE:
        return samples
    resample = es.Resample(inputSampleRate=float(rate), outputSampleRate=float(SAMPLE_RATE))
    return np.stack([resample(np.ascontiguousarray(samples[:, c])) for c in range(samples.shape[1])], axis=1)


def stereo(samples: np.ndarray) -> np.ndarray:
    if samples.shape[1] == 2:
        return np.ascontiguousarray(samples)
    if samples.shape[1] == 1:
        return np.ascontiguousarray(np.repeat(samples, 2, axis=1))
    return np.ascontiguousarray(samples[:, :2])


def middle(samples: np.ndarray, rate: int, seconds: float = WINDOW_S) -> np.ndarray:
    """The middle ``seconds`` of ``samples`` (all of them when shorter): a view, no copy."""
    length = int(seconds * rate)
    if len(samples) <= length:
        return samples
    start = (len(samples) - length) // 2
    return samples[start:start + length]


def to_mono(samples: np.ndarray) -> np.ndarray:
    """float32 mono; two channels summed directly (numpy's mean over a
    2-wide axis is a strided reduction, several times slower)."""
    if samples.shape[1] == 2:
        return np.multiply(np.add(samples[:, 0], samples[:, 1]), np.float32(0.5))
    return np.ascontiguousarray(samples.mean(axis=1), dtype=np.float32)


def tick_bpm(ticks: np.ndarray, fallback: float) -> float:
    """BPM from beat times by least squares on their beat numbers (a missed
    or doubled beat shifts the numbering, not the slope)."""
    if len(ticks) < 8 or fallback <= 0:
        return fallback
    period = 60.0 / fallback
    numbers = np.round((ticks - ticks[0]) / period)
    slope = np.polyfit(numbers, ticks, 1)[0]
    if slope <= 0:
        return fallback
    bpm = 60.0 / slope
    return float(bpm) if abs(bpm - fallback) / fallback < 0.04 else fallback


def analyse(data: bytes, *, min_bpm: int = MIN_BPM, max_bpm: int = MAX_BPM) -> ClipFeatures:
    samples, rate = decode(data)
    duration = samples.shape[0] / rate
    samples = to_analysis_rate(samples, rate)
    mono = to_mono(samples)
    bpm = confidence = None
    if duration >= 4.0:
        rhythm = es.RhythmExtractor2013(method="degara", minTempo=min_bpm, maxTempo=max_bpm)
        histogram_bpm, ticks, confidence, _, _ = rhythm(np.ascontiguousarray(middle(mono, SAMPLE_RATE)))
        bpm = tick_bpm(np.asarray(ticks, dtype=np.float64), float(histogram_bpm)) if histogram_bpm > 0 else None
    key, scale, strength = es.KeyExtractor(profileType=KEY_PROFILE, sampleRate=SAMPLE_RATE)(mono)
    loudness = loudness_range = None
    if duration >= 3.0:  # integrated loudness needs whole 400 ms blocks; the range 3 s ones
        _, _, integrated, lra = es.LoudnessEBUR128(sampleRate=SAMPLE_RATE)(stereo(middle(samples, SAMPLE_RATE)))
        loudness, loudness_range = float(integrated), float(lra)
    return ClipFeatures(
        bpm=None if bpm is None else round(bpm, 2), bpm_confidence=None if confidence is None else float(confidence),
        key=key or None, scale=scale or None, key_strength=float(strength), loudness_lufs=loudness,
        loudness_range_lu=loudness_range, duration_s=round(duration, 3))
