"""A mix aligned to its song's stems.

The reference is the sum of the stems (mono).  Alignment is two FFT
cross-correlations (scipy.signal.correlate, method "fft"):

1. coarse, on onset envelopes (essentia ``OnsetDetectionGlobal``, infogain,
   hop 512: 11.6 ms at 44.1 kHz) of the whole mix and the whole reference:
   a few candidate lags (the best peaks, raw and per overlapping frame:
   music repeats, so the highest peak is not always the right lag);
2. fine, at the full sample rate, for each candidate: a 30-second stretch of
   the reference against the mix around it (± 4 hops) gives the
   sample-accurate lag; the candidate whose lag correlates best wins.

Offset: where in the mix the reference starts, in ms (positive: the mix has
extra time in front; negative: it starts inside the song).  Confidence: the
correlation coefficient of the mix and the reference over the aligned
stretch (about 1 for the song's own mix, whatever its gain or an MP3 coding;
near 0 for another song).  Gain: the least-squares gain of the mix over the
reference, in dB.  Below ``MIN_CONFIDENCE`` the mix is flagged and no
offset is stored.

MP3s: a decoder removes the encoder's delay only when the file says how much
it was (a Xing/Info "gapless" header).  A file without one starts
576 + 529 samples late (LAME's encoder delay and the MPEG decoder's; [I] the
usual values, right for LAME, the encoder nearly everyone uses); that delay is
taken off the offset."""

from __future__ import annotations

import math
from dataclasses import dataclass

import essentia.standard as es
import numpy as np
from scipy.signal import correlate

HOP = 512
FINE_SECONDS = 30.0
MIN_CONFIDENCE = 0.5
CANDIDATES = 4  # coarse lags tried at full rate, by each of two rankings
LAME_DELAY = 576 + 529


@dataclass(frozen=True)
class Alignment:
    offset_ms: float | None
    confidence: float
    gain_db: float | None
    aligned: bool
    flag: str | None


def mp3_missing_gapless_delay(data: bytes) -> int:
    """Samples of encoder+decoder delay a decoder left in front of an MP3's
    audio (0: not an MP3, or it has a gapless Xing/Info header)."""
    start = 0
    if data[:3] == b"ID3" and len(data) >= 10:
        size = (data[6] & 0x7F) << 21 | (data[7] & 0x7F) << 14 | (data[8] & 0x7F) << 7 | (data[9] & 0x7F)
        start = 10 + size
    head = data[start:start + 4]
    if len(head) < 4 or head[0] != 0xFF or (head[1] & 0xE0) != 0xE0:
        return 0  # not an MPEG audio frame: WAV, FLAC...
    first_frame = data[start:start + 2048]
    return 0 if (b"Xing" in first_frame or b"Info" in first_frame) else LAME_DELAY


def onset_envelope(mono: np.ndarray) -> np.ndarray:
    env = np.asarray(es.OnsetDetectionGlobal(method="infogain", frameSize=2048, hopSize=HOP)(
        np.ascontiguousarray(mono, dtype=np.float32)), dtype=np.float64)
    return env - env.mean() if env.size else env


def coarse_lags(mix_env: np.ndarray, ref_env: np.ndarray, count: int = CANDIDATES) -> list[int]:
    """Candidate lags (in hops; mix[t] ~ reference[t - lag]) from the
    envelopes' cross-correlation: the ``count`` best by the raw correlation
    and the ``count`` best by the correlation divided by the frames
    overlapping at that lag (music repeats: the raw peak favours the lags
    with most overlap, the divided one short overlaps); lags overlapping less
    than a quarter of the shorter envelope are not candidates."""
    c = correlate(mix_env, ref_env, mode="full", method="fft")
    overlap = correlate(np.ones(len(mix_env)), np.ones(len(ref_env)), mode="full", method="fft")
    usable = overlap >= 0.25 * min(len(mix_env), len(ref_env))
    lags: list[int] = []
    for score in (np.where(usable, c, -np.inf), np.where(usable, c / np.maximum(overlap, 1.0), -np.inf)):
        taken = 0
        for index in np.argsort(score)[::-1]:
            if not np.isfinite(score[index]) or taken == count:
                break
            lag = int(index) - (len(ref_env) - 1)
            if all(abs(lag - other) >= 8 for other in lags):  # ~90 ms apart
                lags.append(lag)
                taken += 1
    return lags


def _loudest_stretch(reference: np.ndarray, length: int) -> int:
    """Start of the ``length``-sample stretch of the reference with the most
    energy (in 1-second steps): silence aligns nothing."""
    if len(reference) <= length:
        return 0
    step = max(1, length // 30)
    energy = np.add.reduceat(np.square(reference, dtype=np.float64), np.arange(0, len(reference), step))
    window = max(1, length // step)
    sums = np.convolve(energy, np.ones(window), mode="valid")
    return int(np.argmax(sums)) * step


def _fine(mix: np.ndarray, reference: np.ndarray, rate: int, coarse: int) -> tuple[float, int, float] | None:
    """(correlation coefficient, sample lag, gain) at full rate near the
    coarse lag (samples), or None when mix and song hardly overlap there."""
    overlap_lo, overlap_hi = max(0, -coarse), min(len(reference), len(mix) - coarse)
    if overlap_hi - overlap_lo < rate:
        return None
    length = min(overlap_hi - overlap_lo, int(FINE_SECONDS * rate))
    ref_start = overlap_lo + _loudest_stretch(reference[overlap_lo:overlap_hi], length)
    segment = np.asarray(reference[ref_start:ref_start + length], dtype=np.float32)  # float32 FFTs: half the memory
    margin = 4 * HOP
    window_lo = max(0, ref_start + coarse - margin)
    window = np.asarray(mix[window_lo:min(len(mix), ref_start + coarse + length + margin)], dtype=np.float32)
    c = correlate(window, segment, mode="full", method="fft")
    lags = np.arange(len(c)) - (len(segment) - 1) + window_lo - ref_start  # mix[t] ~ reference[t - lag]
    near = np.abs(lags - coarse) <= margin
    lag = int(lags[near][np.argmax(c[near])])
    # Correlation coefficient and gain over the whole overlap at that lag.
    r0, m0 = max(0, -lag), max(0, lag)
    n = min(len(reference) - r0, len(mix) - m0)
    if n < rate:
        return None
    ref = reference[r0:r0 + n]  # views: the whole song is not copied
    mx = mix[m0:m0 + n]
    ref_energy, mix_energy = float(np.dot(ref, ref)), float(np.dot(mx, mx))
    if ref_energy <= 0 or mix_energy <= 0:
        return None
    cross = float(np.dot(mx, ref))
    return cross / math.sqrt(ref_energy * mix_energy), lag, cross / ref_energy


def align(mix: np.ndarray, reference: np.ndarray, rate: int, *, mix_delay: int = 0) -> Alignment:
    """``mix`` and ``reference``: mono float arrays at ``rate``; ``mix_delay``:
    samples the decoder left in front of the mix (see
    ``mp3_missing_gapless_delay``)."""
    if len(mix) < rate or len(reference) < rate or not np.any(reference) or not np.any(mix):
        return Alignment(None, 0.0, None, False, "too short or silent to align")
    best: tuple[float, int, float] | None = None  # (confidence, lag, gain)
    for coarse_hops in coarse_lags(onset_envelope(mix), onset_envelope(reference)):
        found = _fine(mix, reference, rate, coarse_hops * HOP)
        if found is not None and (best is None or found[0] > best[0]):
            best = found
    if best is None:
        return Alignment(None, 0.0, None, False, "mix does not overlap the song at any coarse offset")
    confidence, lag, gain = best
    if confidence < MIN_CONFIDENCE:
        return Alignment(None, round(confidence, 4), None, False,
                         f"low confidence {confidence:.2f} (< {MIN_CONFIDENCE}): not this song's mix?")
    offset_ms = (lag - mix_delay) / rate * 1000
    return Alignment(round(offset_ms, 3), round(confidence, 4), round(20 * math.log10(gain), 3), True, None)
