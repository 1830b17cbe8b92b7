"""Synthetic Cambridge-MT multitracks: a song's stems as WAV files in a ZIP
laid out like the real ones (``<Artist>_<Title>_Full/NN_Name.wav``), and
mixes of it (the stems summed, shifted by a known offset, re-gained,
MP3-encoded) with the truth kept beside them."""

from __future__ import annotations

import io
import random
import zipfile
from dataclasses import dataclass

import numpy as np
import soundfile

from replicas.audio.synth import SAMPLE_RATE, Clip, encode_mp3, pitch_class, render_parts

# Part -> (stem file name, instrument group the naming must give it, stereo?).
STEMS = {"kick": ("01_KickIn.wav", "kick", False), "clap": ("02_Snare.wav", "snare", False),
         "hihat": ("03_HiHat.wav", "hihat", False), "bass": ("04_BassDI.wav", "bass", False),
         "chords": ("05_Piano.wav", "keys", True), "melody": ("06_LeadVox.wav", "lead_vocal", True)}
_SCALES = {"major": (0, 2, 4, 5, 7, 9, 11), "minor": (0, 2, 3, 5, 7, 8, 10)}


def melody(clip: Clip, rng: random.Random) -> np.ndarray:
    """A line of random scale notes and rests, through-composed: unlike the
    loop of drums and chords, it never repeats, so a mix has one right offset."""
    n = int(clip.seconds * SAMPLE_RATE)
    out = np.zeros(n)
    step = 30.0 / clip.bpm  # eighth notes
    root = 60 + pitch_class(clip.tonic)
    at = 0.0
    while at < clip.seconds:
        length = step * rng.choice((1, 1, 2, 3))
        if rng.random() < 0.8:
            note = root + rng.choice(_SCALES[clip.scale]) + 12 * rng.choice((0, 0, 1))
            t = np.arange(int(length * SAMPLE_RATE)) / SAMPLE_RATE
            f = 440.0 * 2 ** ((note - 69) / 12)
            tone = (np.sin(2 * np.pi * f * t) + 0.3 * np.sin(4 * np.pi * f * t)) * np.minimum(1, t / 0.01)
            tone *= np.exp(-t * 3) * rng.uniform(0.5, 1.0)
            i = int(at * SAMPLE_RATE)
            out[i:i + len(tone)] += tone[: max(0, n - i)]
        at += length
    return out


@dataclass(frozen=True)
class Multitrack:
    artist: str
    title: str
    clip: Clip
    stems: dict[str, np.ndarray]  # file name -> float32 frames x channels, as written

    @property
    def folder(self) -> str:
        return f"{self.artist.replace(' ', '')}_{self.title.replace(' ', '')}_Full"

    def reference(self) -> np.ndarray:
        """Mono sum of the stems (what the aligner builds)."""
        return sum(s.mean(axis=1) for s in self.stems.values())

    def zip_bytes(self, *, compress: bool = False, extra: dict[str, bytes] | None = None) -> bytes:
        out = io.BytesIO()
        method = zipfile.ZIP_DEFLATED if compress else zipfile.ZIP_STORED
        with zipfile.ZipFile(out, "w", method) as archive:
            for name, samples in self.stems.items():
                wav = io.BytesIO()
                soundfile.write(wav, samples, SAMPLE_RATE, subtype="PCM_16", format="WAV")
                archive.writestr(f"{self.folder}/{name}", wav.getvalue())
            archive.writestr(f"__MACOSX/{self.folder}/._01_KickIn.wav", b"\x00\x05\x16\x07junk")
            for name, data in (extra or {}).items():
                archive.writestr(name, data)
        return out.getvalue()

    def mix_mp3(self, offset_ms: float, gain_db: float, seed: int = 0) -> bytes:
        """The stems' mix, ``offset_ms`` late (negative: starting inside the
        song), scaled by ``gain_db``, with a little noise, as MP3."""
        stereo = sum(s if s.shape[1] == 2 else np.repeat(s, 2, axis=1) for s in self.stems.values())
        shift = round(offset_ms * SAMPLE_RATE / 1000)
        mix = np.concatenate([np.zeros((shift, 2)), stereo]) if shift >= 0 else stereo[-shift:]
        mix = mix * 10 ** (gain_db / 20)
        mix = mix + np.random.default_rng(seed).standard_normal(mix.shape) * 1e-3
        return encode_mp3(np.clip(mix, -1, 1))


def build_multitrack(artist: str, title: str, seconds: float, seed: int) -> Multitrack:
    rng = random.Random(seed)
    clip = Clip(bpm=rng.randrange(90, 150), tonic=rng.choice(["C", "D", "E", "F", "G", "A", "Bb"]),
                scale=rng.choice(["major", "minor"]), seconds=seconds, seed=seed)
    stems = {}
    parts = render_parts(clip)
    parts["melody"] = melody(clip, rng)
    for part, samples in parts.items():
        name, _, stereo = STEMS[part]
        level = 0.25 * 10 ** (rng.uniform(-6, 0) / 20) / max(1e-9, float(np.max(np.abs(samples))))
        mono = (samples * level).astype(np.float32)
        if stereo:
            pan = rng.uniform(0.3, 0.7)
            stems[name] = np.stack([mono * (1 - pan) * 2 * 0.7, mono * pan * 2 * 0.7], axis=1).astype(np.float32)
        else:
            stems[name] = mono[:, None]
    return Multitrack(artist, title, clip, stems)
