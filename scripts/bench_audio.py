"""Benchmarks of the audio commands (issue 16), printing figures and the load
average (the machine may be shared):

    python scripts/bench_audio.py previews [--previews 100] [--workers 2]
        ``soundscraping audio-features`` on 100 two-minute previews
        (synthesised like the replica's, 128 kb/s MP3; target < 60 s on 2 cores);
    python scripts/bench_audio.py multitrack [--gigabytes 1.0]
        ``soundscraping cmt-postprocess`` on one song whose multitrack ZIP is
        about 1 GB of 16-bit stereo WAV stems, with 3 forum mixes and a
        preview (target < 2 min, peak RSS < 600 MB).

Inputs are made once into data/bench/audio/ (kept: making 100 previews takes
minutes) and stored as the crawl stores them (media_files rows in a
throw-away SQLite database).  Each command runs as a user runs it, in a child
process; its wall time and the child's peak RSS are printed.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import resource
import subprocess
import sys
import time
import zipfile
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from soundscraping.media.paths import media_path  # noqa: E402
from soundscraping.storage import Database  # noqa: E402

WORK = ROOT / "data" / "bench" / "audio"
NOW = "2026-01-01T00:00:00Z"


def load() -> str:
    return "load average " + " ".join(f"{v:.2f}" for v in os.getloadavg()) + f" ({os.cpu_count()} cores)"


KEYS = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")


def _synth(index: int) -> tuple[int, str, str]:
    """(bpm, tonic, scale) preview ``index`` is synthesised in."""
    return 100 + (index * 7) % 75, KEYS[index % 12], ("minor", "major")[index % 2]


def _preview(args: tuple[int, Path]) -> None:
    from replicas.audio.synth import Clip, clip_mp3

    index, path = args
    if not path.exists():
        bpm, tonic, scale = _synth(index)
        clip = Clip(bpm=bpm, tonic=tonic, scale=scale, seconds=120.0, seed=index)
        tmp = path.with_suffix(".part")
        tmp.write_bytes(clip_mp3(clip))
        tmp.replace(path)


def _tree_cpu(root: int, seen: dict[int, float]) -> None:
    """Record the CPU-seconds (user + system, its own) of ``root`` and of every
    process descending from it, from /proc: a process pool's workers are the
    forkserver's children, which getrusage(RUSAGE_CHILDREN) never sees."""
    tick = os.sysconf("SC_CLK_TCK")
    parents, cpu = {}, {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue  # exited meanwhile
        pid = int(stat.parent.name)
        parents[pid] = int(fields[1])
        cpu[pid] = (int(fields[11]) + int(fields[12])) / tick
    for pid, seconds in cpu.items():
        ancestor = pid
        while ancestor not in (root, 0, 1) and ancestor in parents:
            ancestor = parents[ancestor]
        if ancestor == root:
            seen[pid] = max(seen.get(pid, 0.0), seconds)


def run_tree_timed(command: list[str]) -> tuple[float, float, subprocess.CompletedProcess[str]]:
    """(wall seconds, CPU-seconds of the command and all its descendants,
    result); /proc is read every 0.2 s, so a process that ends loses at most
    its last 0.2 s of CPU from the figure."""
    seen: dict[int, float] = {}
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with ThreadPoolExecutor(2) as readers:
        out, err = readers.submit(process.stdout.read), readers.submit(process.stderr.read)
        while process.poll() is None:
            _tree_cpu(process.pid, seen)
            time.sleep(0.2)
        result = subprocess.CompletedProcess(command, process.returncode, out.result(), err.result())
    wall = time.monotonic() - started
    if result.returncode not in (0, 1):
        sys.exit(f"command failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return wall, sum(seen.values()), result


def run_timed(command: list[str]) -> tuple[float, float, float, subprocess.CompletedProcess[str]]:
    """(wall seconds, CPU seconds of the command and its processes, peak RSS
    of the largest of them in MB, result)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    wall = time.monotonic() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    peak_kb = after.ru_maxrss
    if result.returncode not in (0, 1):
        sys.exit(f"command failed ({result.returncode}):\n{result.stderr[-3000:]}")
    return wall, cpu, peak_kb / 1024, result


def bench_previews(count: int, workers: int) -> None:
    folder = WORK / "previews"
    files = folder / "files"
    (files / "beatport_tracks").mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        url = f"https://geo-samples.beatport.com/track/bench-{i:04d}.LOFI.mp3"
        paths.append((i, url, files / media_path(url, "beatport_tracks")))
    missing = [(i, p) for i, _, p in paths if not p.exists()]
    if missing:
        print(f"making {len(missing)} two-minute previews (once) ...", flush=True)
        with ProcessPoolExecutor(os.cpu_count()) as pool:
            list(pool.map(_preview, missing))
    database = folder / "bench.sqlite3"
    database.unlink(missing_ok=True)
    db = Database.from_url(f"sqlite:///{database}")
    db.connect()
    db.ensure_schema()
    db.write({"media_files": [(url, media_path(url, "beatport_tracks"), "x", "beatport_tracks", i, NOW,
                               "preview", str(i), url) for i, url, _ in paths]})
    db.close()
    print(f"before: {load()}")
    wall, cpu, result = run_tree_timed([sys.executable, "-m", "soundscraping", "audio-features", "--database-url",
                                        f"sqlite:///{database}", "--files-store", str(files), "--workers",
                                        str(workers)])
    print(f"after:  {load()}")
    print(result.stderr.strip().splitlines()[-1])
    cores = min(workers, os.cpu_count() or 1)
    print(f"audio-features: {count} two-minute previews in {wall:.1f} s on {workers} workers "
          f"({count / wall:.2f} previews/s; target < 60 s), {cpu:.1f} CPU-seconds (the command, its forkserver "
          f"and workers; {cpu / count:.2f} a preview): about {cpu / cores:.0f} s on {cores} idle cores")
    # What the analysis found, against the tempo and key each preview was synthesised in.
    db = Database.from_url(f"sqlite:///{database}")
    db.connect()
    found = {int(r[0]): r[1:] for r in db.query("SELECT source_id, bpm, key, scale FROM audio_features")}
    db.close()
    bpm_ok = sum(1 for i, (bpm, _, _) in found.items() if bpm is not None and abs(bpm - _synth(i)[0]) <= 1)
    key_ok = sum(1 for i, (_, key, scale) in found.items() if (key, scale) == _synth(i)[1:])
    print(f"accuracy against the synthesised tempo and key: BPM within ±1 for {bpm_ok}/{len(found)}, "
          f"key exact for {key_ok}/{len(found)}")


def _prepare_multitrack(gigabytes: float) -> dict[str, object]:
    """Make the multitrack ZIP and the mixes (once); runs in a child process,
    so the benchmark's own memory (rendering a 4-minute song takes ~1 GB)
    does not count in the command's peak RSS (Linux keeps the parent's
    resident size as a child's starting ru_maxrss)."""
    import numpy as np
    import soundfile

    from replicas.audio.multitrack import build_multitrack

    files = WORK / "multitrack" / "files"
    song = build_multitrack("Bench Band", "Big Song", 240.0, seed=5)
    zip_url = f"https://cambridge-mt.example/{song.folder}_Full.zip"
    zip_path = files / media_path(zip_url, "cmt_songs")
    stem_bytes = int(240.0 * 44100) * 4 + 44  # stereo 16-bit
    stems = max(1, round(gigabytes * (1 << 30) / stem_bytes))
    if not zip_path.exists():
        print(f"making a {stems}-stem multitrack of 4-minute stereo WAVs (~{stems * stem_bytes / 2**30:.2f} GB) ...",
              flush=True)
        zip_path.parent.mkdir(parents=True, exist_ok=True)
        rng = np.random.default_rng(5)
        bases = list(song.stems.items())
        tmp = zip_path.with_suffix(".part")
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_STORED, allowZip64=True) as archive:
            for k in range(stems):
                name, samples = bases[k % len(bases)]
                stereo = samples if samples.shape[1] == 2 else np.repeat(samples, 2, axis=1)
                stereo = (stereo * rng.uniform(0.3, 1.0, size=2)).astype(np.float32)
                wav = io.BytesIO()
                soundfile.write(wav, stereo, 44100, subtype="PCM_16", format="WAV")
                archive.writestr(f"{song.folder}/{k + 1:02d}_{name.split('_', 1)[1]}", wav.getvalue())
        tmp.replace(zip_path)
    preview_url = f"https://cambridge-mt.example/{song.folder}_Preview.mp3"
    mixes = [(preview_url, media_path(preview_url, "cmt_songs"), 0.0)] + [
        (f"https://discussion.example/attachment.php?aid={k}", media_path(f"https://discussion.example/attachment."
                                                                           f"php?aid={k}", "cmt_mixes", "m.mp3"),
         1000.0 * k) for k in (1, 2, 3)]
    for _, path, offset in mixes:
        target = files / path
        if not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(song.mix_mp3(offset, -3.0, seed=1))
    return {"artist": song.artist, "title": song.title, "stems": stems, "zip_url": zip_url,
            "preview_url": preview_url, "mixes": mixes, "size": zip_path.stat().st_size}


def bench_multitrack(gigabytes: float) -> None:
    folder = WORK / "multitrack"
    files = folder / "files"
    with ProcessPoolExecutor(1) as pool:
        made = pool.submit(_prepare_multitrack, gigabytes).result()
    artist, title, stems, size = made["artist"], made["title"], made["stems"], made["size"]
    zip_url, preview_url, mixes = made["zip_url"], made["preview_url"], made["mixes"]
    database = folder / "bench.sqlite3"
    for leftover in folder.glob("bench.sqlite3*"):
        leftover.unlink()
    db = Database.from_url(f"sqlite:///{database}")
    db.connect()
    db.ensure_schema()
    rows = {"cmt_songs": [(artist, title, None, "Rock", None, stems, None, [zip_url], [], preview_url, None, None, 9,
                           False, False, NOW)],
            # url path checksum owner_table owner_id stored_at role owner_key owner_url (migration 8)
            "media_files": [(zip_url, media_path(zip_url, "cmt_songs"), "x", "cmt_songs", None, NOW,
                             "multitrack", f"{artist} / {title}", zip_url)],
            "cmt_forum_threads": [(90, 9, "mixes", "a", NOW, 1, 1, None)], "cmt_mixes": []}
    for url, path, _ in mixes:
        if url == preview_url:
            rows["media_files"].append((url, path, "x", "cmt_songs", None, NOW, "preview", f"{artist} / {title}", url))
        else:
            rows["cmt_mixes"].append((url, 1, 90, "attachment", "discussion.example", "m.mp3", path))
    db.write(rows)
    db.close()
    print(f"before: {load()}")
    wall, cpu, _, result = run_timed([sys.executable, "-m", "soundscraping", "cmt-postprocess", "--database-url",
                                   f"sqlite:///{database}", "--files-store", str(files), "--unplaced",
                                   str(folder / "unplaced.txt")])
    print(f"after:  {load()}")
    (folder / "cmt-postprocess.log").write_text(result.stderr, encoding="utf-8")
    print(result.stderr.strip().splitlines()[-1])
    print(f"(the command's log: {folder / 'cmt-postprocess.log'})")
    # The command's own peak (its log), not RUSAGE_CHILDREN: that also counts the child that made the data.
    rss = max(int(m) for m in re.findall(r"peak memory (\d+) MB", result.stderr))
    print(f"cmt-postprocess: a {size / 2**30:.2f} GB multitrack ({stems} stems of 4 min) and {len(mixes)} mixes in "
          f"{wall:.1f} s ({cpu:.1f} CPU-seconds), peak RSS {rss:.0f} MB (targets < 120 s, < 600 MB)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    which = parser.add_subparsers(dest="which", required=True)
    p = which.add_parser("previews")
    p.add_argument("--previews", type=int, default=100)
    p.add_argument("--workers", type=int, default=2)
    m = which.add_parser("multitrack")
    m.add_argument("--gigabytes", type=float, default=1.0)
    args = parser.parse_args()
    if args.which == "previews":
        bench_previews(args.previews, args.workers)
    else:
        bench_multitrack(args.gigabytes)


if __name__ == "__main__":
    main()
