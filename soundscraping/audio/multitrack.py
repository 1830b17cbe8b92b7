"""Stems streamed out of a stored multitrack ZIP, safely.

``zipfile`` reads one member at a time from the ZIP on disk (the archive is
never extracted; one stem is in memory at a time), and before anything
is read the whole central directory is checked: a member whose path climbs
out (``..``) or is absolute, or whose compression ratio is absurd (a ZIP
bomb), refuses the whole archive with ``UnsafeZip`` (the caller logs and
counts the skip).  ``__MACOSX/`` resource forks, dot-files and folders are
ignored; only audio members are stems."""

from __future__ import annotations

import math
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

import numpy as np
import soundfile

AUDIO_EXTENSIONS = (".wav", ".wave", ".aif", ".aiff", ".flac", ".ogg", ".bwf")
# Audio compresses at most ~1.5:1 losslessly (silence more); 200:1 is only reachable by a crafted archive.
MAX_RATIO = 200.0
MAX_MEMBER_BYTES = 8 << 30  # no real stem is larger than 8 GB


class UnsafeZip(ValueError):
    """The archive is refused as a whole (the message says why)."""


@dataclass(frozen=True)
class StemInfo:
    file_name: str  # base name, as the instrument naming reads it
    member: str  # full path inside the ZIP
    channels: int
    sample_rate: int
    frames: int
    peak: float  # linear, 0..1 (a float WAV may exceed 1)
    rms: float  # linear, over all channels

    @property
    def duration_s(self) -> float:
        return self.frames / self.sample_rate if self.sample_rate else 0.0


def unsafe_reason(info: zipfile.ZipInfo) -> str | None:
    name = info.filename.replace("\\", "/")
    parts = PurePosixPath(name).parts
    if name.startswith("/") or (len(name) > 1 and name[1] == ":"):
        return f"absolute path {info.filename!r}"
    if ".." in parts:
        return f"path climbs out of the archive: {info.filename!r}"
    if info.file_size > MAX_MEMBER_BYTES:
        return f"{info.filename!r} claims {info.file_size} bytes"
    if info.compress_size and info.file_size > (1 << 20) and info.file_size / info.compress_size > MAX_RATIO:
        return (f"absurd compression ratio {info.file_size / info.compress_size:.0f}:1 for {info.filename!r} "
                f"({info.compress_size} -> {info.file_size} bytes)")
    return None


def audio_members(archive: zipfile.ZipFile) -> list[zipfile.ZipInfo]:
    """The archive's audio members in ZIP order, after checking every member
    (``UnsafeZip`` if one is unsafe)."""
    members = []
    for info in archive.infolist():
        if (why := unsafe_reason(info)) is not None:
            raise UnsafeZip(why)
        path = PurePosixPath(info.filename.replace("\\", "/"))
        if info.is_dir() or "__MACOSX" in path.parts or path.name.startswith("."):
            continue
        if path.suffix.lower() in AUDIO_EXTENSIONS:
            members.append(info)
    return members


def open_archive(path: Path) -> zipfile.ZipFile:
    try:
        return zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError) as exc:
        raise UnsafeZip(f"not a readable ZIP: {exc}") from exc


def read_stem(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> tuple[StemInfo, np.ndarray]:
    """The stem's facts and its samples (float32, frames x channels), decoded
    from the archive member into one buffer (no second copy: a 1 GB
    multitrack is processed in a few hundred MB)."""
    with archive.open(info) as raw, soundfile.SoundFile(raw) as sound:
        channels, rate = sound.channels, sound.samplerate
        samples = np.empty((max(0, sound.frames), channels), dtype=np.float32)
        frames = sound.read(out=samples, dtype="float32", always_2d=True).shape[0]
    samples = samples[:frames]
    peak = max(float(samples.max()), -float(samples.min())) if frames else 0.0
    flat = samples.reshape(-1)
    rms = math.sqrt(float(np.dot(flat, flat)) / flat.size) if frames else 0.0
    name = PurePosixPath(info.filename.replace("\\", "/")).name
    return StemInfo(name, info.filename, channels, rate, frames, peak, rms), samples


def stems(path: Path) -> Iterator[tuple[StemInfo, np.ndarray | None, str | None]]:
    """(facts, samples, None) per audio member, or (facts-less placeholder,
    None, why) for a member that is not decodable; ``UnsafeZip`` before any
    member is read when the archive is refused."""
    archive = open_archive(path)
    with archive:
        for info in audio_members(archive):
            try:
                yield (*read_stem(archive, info), None)
            except (soundfile.LibsndfileError, RuntimeError, zipfile.BadZipFile, EOFError) as exc:
                name = PurePosixPath(info.filename.replace("\\", "/")).name
                yield StemInfo(name, info.filename, 0, 0, 0, 0.0, 0.0), None, f"not decodable: {exc}"
