"""Deterministic file contents for the Cambridge-MT replica, generated on the fly.

* ``zip_bytes``: a real (stored) ZIP of ``NN_Instrument.wav`` files in the
  ``<Artist>_<Title>_Full/`` folder, with ``__MACOSX/`` junk when asked.
* ``mp3_bytes`` / ``wav_bytes``: small files that start like the real formats;
  ``audio_file``: one of them cut to an exact size (forum attachments).
* ``StreamFile``: a file of any size (1.5 GB and more) whose bytes at any offset
  are computed, never stored: 1 MiB blocks, each a different rotation of one
  pseudo-random block, so a resume at a wrong offset changes the checksum.
"""

from __future__ import annotations

import hashlib
import io
import random
import struct
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field

__all__ = ["BLOCK", "StreamFile", "audio_file", "mp3_bytes", "wav_bytes", "zip_bytes"]

BLOCK = 1 << 20  # 1 MiB

INSTRUMENTS = [
    "Kick", "KickSub", "Snare", "SnareBottom", "HiHat", "Tom1", "Tom2", "FloorTom", "Overheads", "Room",
    "Bass", "BassDI", "ElecGtr1", "ElecGtr2", "AcGtr", "Piano", "Organ", "Synth", "Pad", "LeadVox",
    "BackingVox1", "BackingVox2", "Strings", "Brass", "Percussion", "Shaker", "KickTrigger", "Claps",
]


def _rng(*parts: object) -> random.Random:
    digest = hashlib.blake2b(repr(parts).encode("utf-8"), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "big"))


def wav_bytes(seed: object, samples: int = 2048) -> bytes:
    """A valid 16-bit mono 44.1 kHz WAV of pseudo-random samples."""
    data = _rng("wav", seed).randbytes(samples * 2)
    header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE"
    header += b"fmt " + struct.pack("<IHHIIHH", 16, 1, 1, 44100, 88200, 2, 16)
    return header + b"data" + struct.pack("<I", len(data)) + data


def mp3_bytes(seed: object, frames: int = 24) -> bytes:
    """An ID3v2 tag and MPEG-1 Layer III frame headers (128 kbit/s, 44.1 kHz)
    with pseudo-random payloads: enough to look like an MP3."""
    rng = _rng("mp3", seed)
    tag = b"ID3\x04\x00\x00" + bytes([0, 0, 0, 10]) + b"TIT2" + struct.pack(">I", 0) + b"\x00\x00"
    out = bytearray(tag)
    for _ in range(frames):
        out += b"\xff\xfb\x90\x64" + rng.randbytes(417 - 4)
    return bytes(out)


def audio_file(seed: object, ext: str, size: int) -> bytes:
    """An MP3 (``ext`` "mp3") or WAV (else) of exactly ``size`` bytes, so the
    size a page shows is the size that is served."""
    if ext == "mp3":
        return mp3_bytes(seed, frames=size // 417 + 1)[:size]
    data = wav_bytes(seed, samples=max(0, size - 44) // 2)
    return data + b"\0" * (size - len(data))


def zip_bytes(folder: str, tracks: int, seed: object, *, first_track: int = 1, macosx: bool = False,
              samples: int = 512) -> bytes:
    """A real ZIP (stored, fixed timestamps: byte-identical every time)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as archive:
        for n in range(first_track, first_track + max(tracks, 0)):
            name = f"{folder}/{n:02d}_{INSTRUMENTS[(n - 1) % len(INSTRUMENTS)]}.wav"
            info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
            archive.writestr(info, wav_bytes((seed, n), samples))
            if macosx:
                junk = zipfile.ZipInfo(f"__MACOSX/{folder}/._{name.rsplit('/', 1)[1]}",
                                       date_time=(2020, 1, 1, 0, 0, 0))
                archive.writestr(junk, b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    return buf.getvalue()


@dataclass
class StreamFile:
    """``size`` bytes computed block by block from ``seed``."""

    size: int
    seed: object = "big"
    _base: bytes = field(default=b"", repr=False)
    _md5: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        rng = _rng("stream", self.seed)
        self._base = rng.randbytes(BLOCK)

    def block(self, index: int) -> bytes:
        """Block ``index`` (1 MiB; the last one may be shorter)."""
        start = index * BLOCK
        if start >= self.size:
            return b""
        shift = (index * 7919 + 13) % BLOCK
        data = self._base[shift:] + self._base[:shift]
        return data[: min(BLOCK, self.size - start)]

    def iter_range(self, start: int = 0, end: int | None = None, chunk: int = BLOCK) -> Iterator[bytes]:
        """Bytes ``start`` .. ``end`` (inclusive; default: to the end), in
        pieces of at most ``chunk`` bytes."""
        end = self.size - 1 if end is None else min(end, self.size - 1)
        pos = start
        while pos <= end:
            index, offset = divmod(pos, BLOCK)
            block = self.block(index)
            piece = block[offset: offset + min(chunk, end - pos + 1)]
            if not piece:
                break
            yield piece
            pos += len(piece)

    def md5(self) -> str:
        """MD5 of the whole file (computed once, ~2 s per GB)."""
        if self._md5 is None:
            digest = hashlib.md5(usedforsecurity=False)
            for index in range((self.size + BLOCK - 1) // BLOCK):
                digest.update(self.block(index))
            self._md5 = digest.hexdigest()
        return self._md5
