"""Features of a stem or a mix (the seed's list), on the signal normalised to
-15 LUFS:

- loudness: integrated loudness and loudness range (the dynamic range, LU)
  by essentia's ``LoudnessEBUR128``; the signal is then scaled (in place, in
  float32: stems are large) by the gain that brings it to -15 LUFS;
- level: RMS (dBFS) and crest factor (peak/RMS, dB) of the normalised signal;
- spectrum (mono, 2048-sample Hann frames, no overlap): essentia's
  ``Centroid`` (Hz), ``RollOff`` (85%, Hz), ``CentralMoments`` +
  ``DistributionShape`` (bandwidth = square root of the spread, Hz),
  ``Flatness``, ``Flux`` and ``MFCC`` (13 coefficients), averaged over frames;
- stereo: width (side energy / total), left-right imbalance (dB) and the
  mid/side energy ratio (dB); NULL for mono.
- HNR is left NULL: essentia has no harmonics-to-noise algorithm, and HNR
  (Boersma's autocorrelation measure, Praat's) is defined for a periodic,
  monophonic signal: a drum stem or a full mix has none (parselmouth, on
  vocal and solo stems, would be the library to add; see the README).

Silent signals (no measurable loudness) get NULL loudness-derived values."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

import essentia.standard as es
import numpy as np

TARGET_LUFS = -15.0
FRAME = 2048
_SILENT = 1e-12


@dataclass(frozen=True)
class Features:
    loudness_lufs: float | None
    normalise_gain_db: float | None
    rms_dbfs: float | None
    crest_factor_db: float | None
    dynamic_range_lu: float | None
    spectral_centroid_hz: float | None
    spectral_rolloff_hz: float | None
    spectral_bandwidth_hz: float | None
    spectral_flatness: float | None
    spectral_flux: float | None
    mfcc_means: str | None  # JSON list of 13 floats
    stereo_width: float | None
    imbalance_db: float | None
    mid_side_ratio_db: float | None
    hnr_db: float | None = None

    def values(self) -> tuple[float | str | None, ...]:
        return (self.loudness_lufs, self.normalise_gain_db, self.rms_dbfs, self.crest_factor_db,
                self.dynamic_range_lu, self.spectral_centroid_hz, self.spectral_rolloff_hz,
                self.spectral_bandwidth_hz, self.spectral_flatness, self.spectral_flux, self.mfcc_means,
                self.stereo_width, self.imbalance_db, self.mid_side_ratio_db, self.hnr_db)


def _db(ratio: float) -> float | None:
    return 10 * math.log10(ratio) if ratio > _SILENT else None


class FeatureExtractor:
    """One per sample rate (essentia algorithms are configured once)."""

    def __init__(self, sample_rate: int):
        self.rate = sample_rate
        nyquist = sample_rate / 2
        self.window = es.Windowing(type="hann", size=FRAME)
        self.spectrum = es.Spectrum(size=FRAME)
        self.centroid = es.Centroid(range=nyquist)
        self.rolloff = es.RollOff(sampleRate=sample_rate)
        self.flatness = es.Flatness()
        self.flux = es.Flux()
        self.moments = es.CentralMoments(range=nyquist)
        self.shape = es.DistributionShape()
        self.mfcc = es.MFCC(sampleRate=sample_rate, inputSize=FRAME // 2 + 1, highFrequencyBound=min(11000, nyquist))
        self.loudness = es.LoudnessEBUR128(sampleRate=sample_rate)

    def _spectral(self, mono: np.ndarray) -> tuple[float, ...] | None:
        rows = []
        for frame in es.FrameGenerator(mono, frameSize=FRAME, hopSize=FRAME, startFromZero=True,
                                       lastFrameToEndOfFile=False):
            if not np.any(frame):
                continue  # silence: no spectral shape
            s = self.spectrum(self.window(frame))
            spread = self.shape(self.moments(s))[0]
            rows.append((self.centroid(s), self.rolloff(s), math.sqrt(max(spread, 0.0)), self.flatness(s),
                         self.flux(s), *self.mfcc(s)[1]))
        return tuple(float(v) for v in np.mean(np.array(rows), axis=0)) if rows else None

    def features(self, samples: np.ndarray) -> Features:
        """``samples``: float32, frames x channels (1 or 2; more: the first
        two).  The array is scaled in place (normalised to -15 LUFS)."""
        if samples.shape[1] > 2:
            samples = samples[:, :2]
        samples = np.ascontiguousarray(samples, dtype=np.float32)
        integrated = lra = gain = None
        if samples.shape[0] >= 0.4 * self.rate and np.any(samples):
            stereo = samples if samples.shape[1] == 2 else np.repeat(samples, 2, axis=1)
            _, _, integrated_lufs, lra_lu = self.loudness(stereo)
            del stereo
            if math.isfinite(integrated_lufs) and integrated_lufs > -70:
                integrated, lra = float(integrated_lufs), float(lra_lu)
                gain = TARGET_LUFS - integrated
                samples *= np.float32(10 ** (gain / 20))
        n = samples.shape[0]
        peak = max(float(samples.max()), -float(samples.min())) if n else 0.0
        left = samples[:, 0]
        right = samples[:, 1] if samples.shape[1] == 2 else None
        e_left = float(np.dot(left, left))
        e_right = float(np.dot(right, right)) if right is not None else None
        energy = (e_left + (e_right or 0.0)) / (n * samples.shape[1]) if n else 0.0
        rms_db = _db(energy)
        crest = 20 * math.log10(peak / math.sqrt(energy)) if energy > _SILENT and peak > 0 else None
        mono = np.ascontiguousarray(samples.mean(axis=1, dtype=np.float32)) if right is not None else left.copy()
        spectral = self._spectral(mono)
        del mono
        width = imbalance = mid_side = None
        if right is not None and e_right is not None:
            e_cross = float(np.dot(left, right))
            e_mid, e_side = (e_left + e_right + 2 * e_cross) / 4, max(0.0, (e_left + e_right - 2 * e_cross) / 4)
            if e_mid + e_side > _SILENT:
                width = e_side / (e_mid + e_side)
            if e_left > _SILENT and e_right > _SILENT:
                imbalance = 10 * math.log10(e_left / e_right)
            mid_side = 10 * math.log10(e_mid / e_side) if e_side > _SILENT and e_mid > _SILENT else None
        centroid = rolloff = bandwidth = flatness = flux = None
        mfcc = None
        if spectral is not None:
            centroid, rolloff, bandwidth, flatness, flux = spectral[:5]
            mfcc = json.dumps([round(v, 4) for v in spectral[5:]])
        return Features(integrated, gain, rms_db, crest, lra, centroid, rolloff, bandwidth, flatness, flux, mfcc,
                        width, imbalance, mid_side)
