"""``soundscraping audio-features`` and ``soundscraping audio-report``."""

from __future__ import annotations

import argparse
import importlib
import logging
import multiprocessing
import os
import sys
import time
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from pathlib import Path
from typing import Any

from soundscraping.analysis.cli import database_argument, run_with_database, utc_now_text
from soundscraping.audio import EXTRA_MISSING
from soundscraping.storage import Database, Values, mask_url
from soundscraping.storage import audio_queries as queries

logger = logging.getLogger("soundscraping.audio")


# What each command imports from the ``audio`` extra (``AUDIO_MODULES`` in
# soundscraping/__main__.py is their union): checked before the database is opened.
COMMAND_MODULES = {
    "audio-features": ("essentia", "soundfile", "numpy"),
    "audio-report": ("numpy", "matplotlib"),
    "cmt-postprocess": ("essentia", "soundfile", "numpy", "scipy"),
}


def missing_audio_modules(command: str) -> list[str]:
    """The modules ``command`` needs that cannot be imported here (absent or
    broken: an import is tried, not just looked up)."""
    missing = []
    for name in COMMAND_MODULES[command]:
        try:
            importlib.import_module(name)
        except ImportError:
            missing.append(name)
    return missing


def _audio_stack_missing(command: str) -> bool:
    """True (after one stderr line naming the extra and the missing modules)
    when ``command``'s part of the audio stack cannot be imported."""
    if not (missing := missing_audio_modules(command)):
        return False
    prog = f"soundscraping {command}"
    print(f"{prog}: error: {prog} {EXTRA_MISSING} ({', '.join(missing)} not installed)", file=sys.stderr)
    return True


def add_features_arguments(parser: argparse.ArgumentParser) -> None:
    database_argument(parser)
    parser.add_argument("--files-store", default=None,
                        help="where the media pipeline stored files (default: the FILES_STORE setting)")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 1, metavar="N",
                        help="analysing processes (default: one per core)")
    parser.add_argument("--batch-size", type=int, default=50, metavar="N",
                        help="rows committed per transaction (default 50)")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="stop after N previews")
    parser.add_argument("--min-bpm", type=int, default=None, metavar="BPM",
                        help="lowest tempo the beat tracker may report (default 88; 40-180)")
    parser.add_argument("--max-bpm", type=int, default=None, metavar="BPM",
                        help="highest tempo (default 185; 60-250)")
    parser.add_argument("--retry-errors", action="store_true",
                        help="analyse again the previews that failed with this analyser version")


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    database_argument(parser)
    parser.add_argument("--out", type=Path, default=Path("data/audio/audio-report.png"), metavar="PNG",
                        help="where to write the picture (default data/audio/audio-report.png)")
    parser.add_argument("--analyser-version", default=None, metavar="TEXT",
                        help="compare only rows of this analyser version (default: all analysed previews)")


# --- audio-features ---------------------------------------------------------------------

_worker_bpm_range: tuple[int, int] = (0, 0)


def _init_worker(min_bpm: int, max_bpm: int) -> None:
    global _worker_bpm_range
    _worker_bpm_range = (min_bpm, max_bpm)
    import soundscraping.audio.previews  # noqa: F401 - import (and quiet) essentia once per process


def _analyse_in_worker(data: bytes) -> tuple[Any, str | None]:
    """(ClipFeatures, None) or (None, why it failed): a bad file is one
    failed row, never a dead pool."""
    from soundscraping.audio.previews import UndecodableAudio, analyse

    try:
        return analyse(data, min_bpm=_worker_bpm_range[0], max_bpm=_worker_bpm_range[1]), None
    except UndecodableAudio as exc:
        return None, str(exc)
    except Exception as exc:  # noqa: BLE001 - essentia raises RuntimeError on anything; recorded, the run goes on
        return None, f"{type(exc).__name__}: {exc}"


def run_features_cli(args: argparse.Namespace) -> int:
    prog = "soundscraping audio-features"
    for name in ("workers", "batch_size"):
        if getattr(args, name) < 1:
            print(f"{prog}: error: --{name.replace('_', '-')} must be at least 1", file=sys.stderr)
            return 2
    if _audio_stack_missing("audio-features"):
        return 2
    return run_with_database(args, prog, analyse_previews, EXTRA_MISSING)


def _row(job: queries.StoredAudio, features: Any, error: str | None, version: str) -> Values:
    from soundscraping.audio.previews import ANALYSER

    f = features
    values = (None,) * 8 if f is None else (f.bpm, f.bpm_confidence, f.key, f.scale, f.key_strength,
                                            f.loudness_lufs, f.loudness_range_lu, f.duration_s)
    return (job.source_table, job.source_id, job.url, job.path, *values, error, ANALYSER, version, utc_now_text())


def analyse_previews(db: Database, args: argparse.Namespace) -> int:
    """Analyse every stored preview without features by the current analyser
    version, on a process pool; rows are committed in batches, so a killed
    run loses at most one batch and the next run goes on from there.
    Exit 1 when some previews could not be read from the store."""
    from scrapy.settings import Settings

    from soundscraping.audio import previews
    from soundscraping.media.stores import read_stored_file

    lo = previews.MIN_BPM if args.min_bpm is None else args.min_bpm
    hi = previews.MAX_BPM if args.max_bpm is None else args.max_bpm
    if not (40 <= lo <= 180 and 60 <= hi <= 250 and lo < hi):
        raise ValueError(f"--min-bpm/--max-bpm must satisfy 40 <= min <= 180, 60 <= max <= 250, min < max "
                         f"(got {lo}-{hi})")
    version = previews.analyser_version(lo, hi)
    settings = Settings()
    settings.setmodule("soundscraping.settings")
    store = args.files_store or settings.get("FILES_STORE")
    todo = queries.audio_to_analyse(db, "preview", version, retry_errors=args.retry_errors)
    if args.limit is not None:
        todo = todo[: args.limit]
    logger.info("Analyser %s: %d previews to analyse in %s (store %s, %d workers)", version, len(todo),
                mask_url(db.url), store, args.workers)
    started = last_log = time.monotonic()
    pending_rows: list[Values] = []
    done = failed = missing = 0
    context = multiprocessing.get_context("forkserver")
    with ProcessPoolExecutor(args.workers, mp_context=context, initializer=_init_worker,
                             initargs=(lo, hi)) as pool:
        running: dict[Future[tuple[Any, str | None]], queries.StoredAudio] = {}
        queue = iter(todo)

        def submit_next() -> bool:
            nonlocal missing
            for job in queue:
                try:
                    data = read_stored_file(store, job.path, settings)
                except Exception as exc:  # noqa: BLE001 - a store error skips this file, logged and counted
                    data, why = None, f"{type(exc).__name__}: {exc}"
                else:
                    why = "not in the store"
                if data is None:
                    missing += 1
                    logger.warning("Preview of %s %s (%s) skipped: %s (%s)", job.source_table, job.source_id,
                                   job.url, why, job.path)
                    continue
                running[pool.submit(_analyse_in_worker, data)] = job
                return True
            return False

        for _ in range(args.workers * 2):
            if not submit_next():
                break
        while running:
            finished, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in finished:
                job = running.pop(future)
                features, error = future.result()
                if error:
                    failed += 1
                    logger.warning("Preview of %s %s not analysed: %s", job.source_table, job.source_id, error)
                pending_rows.append(_row(job, features, error, version))
                done += 1
                submit_next()
            now = time.monotonic()
            if len(pending_rows) >= args.batch_size or not running:
                queries.write_audio_features(db, pending_rows)
                pending_rows = []
            if now - last_log >= 10 or not running:
                last_log = now
                logger.info("Analysed %d/%d previews (%d failed, %d missing), %.1f a second", done, len(todo),
                            failed, missing, done / max(now - started, 1e-9))
    if pending_rows:
        queries.write_audio_features(db, pending_rows)
    logger.info("audio-features: %d analysed, %d failed (stored with their error), %d missing from the store, "
                "%.1f s", done, failed, missing, time.monotonic() - started)
    return 1 if missing else 0


# --- audio-report -----------------------------------------------------------------------

def run_report_cli(args: argparse.Namespace) -> int:
    if _audio_stack_missing("audio-report"):
        return 2
    return run_with_database(args, "soundscraping audio-report", print_report, EXTRA_MISSING)


def print_report(db: Database, args: argparse.Namespace) -> int:
    from soundscraping.audio.report import report

    versions = queries.analysed_versions(db)
    rows = queries.beatport_estimates(db, args.analyser_version)
    if not rows:
        print("No analysed Beatport previews: run `scrapy crawl beatport_tracks -a previews=true`, "
              "then `soundscraping audio-features`.", file=sys.stderr)
        return 1
    if len(versions) > 1 and not args.analyser_version:
        print("note: rows of several analyser versions: " + "; ".join(f"{v!r} ({n})" for v, n in versions))
    _, lines = report(rows, args.out)
    for line in lines:
        print(line)
    print(f"picture: {args.out}")
    return 0


# --- cmt-postprocess --------------------------------------------------------------------

def add_cmt_arguments(parser: argparse.ArgumentParser) -> None:
    database_argument(parser)
    parser.add_argument("--files-store", default=None,
                        help="where the crawl stored the ZIPs and mixes (default: the FILES_STORE setting)")
    parser.add_argument("--limit", type=int, default=None, metavar="N", help="stop after N songs")
    parser.add_argument("--unplaced", type=Path, default=Path("data/audio/unplaced_stem_names.txt"), metavar="FILE",
                        help="where to list the stem names no naming rule places (instrument group 'other')")


def run_cmt_cli(args: argparse.Namespace) -> int:
    prog = "soundscraping cmt-postprocess"
    if _audio_stack_missing("cmt-postprocess"):
        return 2
    return run_with_database(args, prog, postprocess_cmt, EXTRA_MISSING)


def postprocess_cmt(db: Database, args: argparse.Namespace) -> int:
    """Post-process every song with a stored multitrack not yet done by this
    processor version, one song per transaction (resumable).  Exit 1 when a
    file was skipped (refused ZIP, missing or undecodable file)."""
    from scrapy.settings import Settings

    from soundscraping.audio import cmt
    from soundscraping.media.stores import read_stored_file

    settings = Settings()
    settings.setmodule("soundscraping.settings")
    store = args.files_store or settings.get("FILES_STORE")
    version = cmt.processor_version()
    songs, already = queries.cmt_songs_to_process(db, version)
    if args.limit is not None:
        songs = songs[: args.limit]
    logger.info("Processor %s: %d songs to post-process (%d already done) in %s (store %s)", version, len(songs),
                already, mask_url(db.url), store)
    started = time.monotonic()
    unplaced: set[str] = set()
    totals = {"stems": 0, "aligned": 0, "flagged": 0, "skipped": 0}
    for number, song in enumerate(songs, 1):
        song_started = time.monotonic()
        now = utc_now_text()
        result = cmt.process_song(song, store, settings, version, now,
                                  lambda path: read_stored_file(store, path, settings))
        for why in result.skipped:
            logger.warning("%s: skipped %s", song.name, why)
        status = "done" if result.stems else "skipped"
        detail = "; ".join(result.skipped)[:2000] or None
        queries.write_cmt_song(db, stems=result.stems, alignments=result.alignments, features=result.features,
                               processed=(song.artist, song.title, status, len(result.stems),
                                          len(result.alignments), detail, version, now))
        unplaced.update(r[2] for r in result.stems if r[4] == "other")
        totals["stems"] += len(result.stems)
        totals["aligned"] += len(result.alignments) - result.flagged
        totals["flagged"] += result.flagged
        totals["skipped"] += len(result.skipped)
        logger.info("[%d/%d] %s: %d stems, %d mixes aligned, %d flagged, %d files skipped, %.1f s", number, len(songs),
                    song.name, len(result.stems), len(result.alignments) - result.flagged, result.flagged,
                    len(result.skipped), time.monotonic() - song_started)
    if unplaced:
        args.unplaced.parent.mkdir(parents=True, exist_ok=True)
        with open(args.unplaced, "a", encoding="utf-8") as out:
            out.writelines(f"{name}\n" for name in sorted(unplaced))
    logger.info("cmt-postprocess: %d songs, %d stems (%d named 'other', listed in %s), %d mixes aligned, "
                "%d flagged, %d files skipped, %.1f s, peak memory %d MB", len(songs), totals["stems"], len(unplaced),
                args.unplaced, totals["aligned"], totals["flagged"], totals["skipped"], time.monotonic() - started,
                cmt.peak_rss_mb())
    return 1 if totals["skipped"] else 0
