"""Cambridge-MT post-processing of one song (``soundscraping cmt-postprocess``):
its stored multitrack ZIPs read stem by stem (soundscraping.audio.multitrack),
each stem named (stem_names), measured and described (mix_features); the
stems summed into a mono reference; each stored forum mix and library preview
aligned to it (alignment), then described without the sum in memory.
Memory holds one stem, the running sum and one mix at a time, whatever the
size of the multitrack."""

from __future__ import annotations

import contextlib
import logging
import math
import resource
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import essentia
import essentia.standard as es
import numpy as np

from soundscraping.audio import alignment, multitrack, stem_names
from soundscraping.audio.mix_features import FeatureExtractor
from soundscraping.audio.previews import UndecodableAudio, decode
from soundscraping.storage import Values
from soundscraping.storage.audio_queries import CmtSongFiles

logger = logging.getLogger("soundscraping.audio.cmt")

REVISION = 1


def processor_version() -> str:
    return f"{REVISION}; essentia {essentia.__version__}; naming {len(stem_names.RULES)} rules"


@dataclass
class SongResult:
    stems: list[Values] = field(default_factory=list)
    alignments: list[Values] = field(default_factory=list)
    features: list[Values] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # why each skipped file was skipped
    flagged: int = 0


def peak_rss_mb() -> int:
    """The process's peak resident memory so far (MB; Linux reports kB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024


def _db(linear: float) -> float | None:
    return round(20 * math.log10(linear), 3) if linear > 0 else None


@contextlib.contextmanager
def local_copy(files_store: str, path: str, settings: Any) -> Iterator[Path]:
    """A stored file as a local path: the file itself in a local store, a
    streamed temporary download from S3 (deleted afterwards)."""
    if not files_store.startswith("s3://"):
        yield Path(files_store) / path
        return
    from soundscraping.media.stores import S3StreamStore

    store = S3StreamStore(files_store, settings)
    with tempfile.TemporaryDirectory(prefix="cmt-") as folder:
        local = Path(folder) / Path(path).name
        try:  # in parts (MEDIA_STREAM_PART_SIZE_MB x MEDIA_STREAM_UPLOAD_THREADS in memory), straight to disk
            store.client.download_file(store.bucket, store.prefix + path, str(local), Config=store.transfer)
        except store.client.exceptions.ClientError as exc:
            if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchKey"):
                raise
            # Not in the bucket: the caller sees a missing file, as with a local store.
        yield local


class _Reference:
    """The running mono sum of the stems at the first stem's sample rate
    (float32: a 10-minute song at 48 kHz is 115 MB)."""

    def __init__(self) -> None:
        self.rate: int | None = None
        self.samples = np.zeros(0, dtype=np.float32)

    def add(self, samples: np.ndarray, rate: int) -> None:
        mono = samples.mean(axis=1, dtype=np.float32)
        if self.rate is None:
            self.rate = rate
        elif rate != self.rate:
            mono = es.Resample(inputSampleRate=float(rate), outputSampleRate=float(self.rate))(
                np.ascontiguousarray(mono, dtype=np.float32))
        if len(mono) > len(self.samples):
            self.samples = np.concatenate([self.samples, np.zeros(len(mono) - len(self.samples), dtype=np.float32)])
        self.samples[:len(mono)] += mono


def process_song(song: CmtSongFiles, files_store: str, settings: Any, version: str, now: str,
                 read_file: Callable[[str], bytes | None]) -> SongResult:
    result = SongResult()
    reference = _Reference()
    extractors: dict[int, FeatureExtractor] = {}

    def extractor(rate: int) -> FeatureExtractor:
        if rate not in extractors:
            extractors[rate] = FeatureExtractor(rate)
        return extractors[rate]

    seen: set[str] = set()
    for zip_url, zip_path in song.zips:
        try:
            with local_copy(files_store, zip_path, settings) as local:
                if not local.exists():
                    result.skipped.append(f"multitrack {zip_url}: not in the store ({zip_path})")
                    continue
                count = 0
                for info, samples, why in multitrack.stems(local):
                    count += 1
                    if samples is None:
                        result.skipped.append(f"stem {info.member} in {zip_url}: {why}")
                        continue
                    if info.file_name in seen:
                        result.skipped.append(f"stem {info.member} in {zip_url}: a second stem of that name")
                        continue
                    seen.add(info.file_name)
                    group = stem_names.instrument_group(info.file_name)
                    started = time.monotonic()
                    result.stems.append((song.artist, song.title, info.file_name, zip_path, group, info.channels,
                                         info.sample_rate, round(info.duration_s, 4), _db(info.peak), _db(info.rms),
                                         version, now))
                    reference.add(samples, info.sample_rate)  # before the features scale it in place
                    features = extractor(info.sample_rate).features(samples)
                    result.features.append(("stem", song.artist, song.title, info.file_name, *features.values(),
                                            version, now))
                    del samples
                    logger.info("%s: stem %d %s (%s, %d ch, %d Hz, %.1f s) in %.1f s, peak memory %d MB", song.name,
                                count, info.file_name, group, info.channels, info.sample_rate, info.duration_s,
                                time.monotonic() - started, peak_rss_mb())
        except multitrack.UnsafeZip as exc:
            result.skipped.append(f"multitrack {zip_url} refused: {exc}")
            logger.warning("%s: multitrack %s refused, nothing read from it: %s", song.name, zip_url, exc)
    if reference.rate is None:
        return result
    # Two passes, so that the stems' sum and a mix's features never share the memory peak: every mix
    # is aligned first (the sum, one decoded mix and its mono copy in memory), then the sum is freed
    # and each mix is decoded again to be described (the mix and essentia's copy of it).
    described: list[tuple[str, str, str]] = []
    for source, files in (("forum_mix", song.mixes), ("library_preview", song.previews)):
        for url, path in files:
            data = read_file(path)
            if data is None:
                result.skipped.append(f"{source} {url}: not in the store ({path})")
                continue
            try:
                samples, rate = decode(data)
            except UndecodableAudio as exc:
                result.skipped.append(f"{source} {url}: {exc}")
                continue
            mono = samples.mean(axis=1, dtype=np.float32)
            del samples
            delay = alignment.mp3_missing_gapless_delay(data)
            del data
            if rate != reference.rate:
                mono = es.Resample(inputSampleRate=float(rate), outputSampleRate=float(reference.rate))(
                    np.ascontiguousarray(mono, dtype=np.float32))
                delay = round(delay * reference.rate / rate)
            found = alignment.align(mono, reference.samples, reference.rate, mix_delay=delay)
            del mono
            result.flagged += not found.aligned
            result.alignments.append((url, song.artist, song.title, source, path, found.offset_ms, found.confidence,
                                      found.gain_db, found.aligned, found.flag, version, now))
            described.append((source, url, path))
            logger.info("%s: %s %s %s (peak memory %d MB)", song.name, source, url,
                        f"offset {found.offset_ms:.1f} ms, confidence {found.confidence:.2f}, gain "
                        f"{found.gain_db:+.1f} dB" if found.aligned else f"flagged: {found.flag}", peak_rss_mb())
    reference.samples = np.zeros(0, dtype=np.float32)  # the features do not need the sum
    for source, url, path in described:
        data = read_file(path)
        if data is None:  # removed from the store since the first pass
            result.skipped.append(f"{source} {url}: not in the store ({path})")
            continue
        samples, rate = decode(data)  # decoded once already: cannot fail now
        del data
        features = extractor(rate).features(samples)
        del samples
        result.features.append(("mix", song.artist, song.title, url, *features.values(), version, now))
        logger.info("%s: %s %s described (peak memory %d MB)", song.name, source, url, peak_rss_mb())
    return result
