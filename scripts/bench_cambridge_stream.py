"""Measure the large-file streaming path: ``scrapy crawl cambridge_mt -a
download=all`` against the local Cambridge-MT replica, one song whose first
multitrack ZIP is generated at ``--size`` bytes (default 2.2 GB, the largest
real ZIP), into a temporary local FILES_STORE and SQLite database.  Prints
the transfer time, throughput and the crawler's peak RSS (VmHWM).

    python scripts/bench_cambridge_stream.py [--size 2200000000] [--song Riesling] [--keep]
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from replicas.cambridge_mt import (  # noqa: E402
    CambridgeReplica,
    ForumConfig,
    Quirks,
    build_forum,
    load_library,
)
from tests.crawl import finish, start_crawl  # noqa: E402


def vm_hwm_mb(pid: int) -> float:
    """Peak RSS of a running process (VmHWM; rusage's ru_maxrss would count
    the parent's size from before the crawler's exec)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", type=int, default=2_200_000_000, help="bytes of the generated ZIP")
    parser.add_argument("--song", default="Riesling", help="title of the song whose first ZIP is large")
    parser.add_argument("--keep", action="store_true", help="keep the work folder (default: delete it)")
    args = parser.parse_args()
    library = load_library()
    song = library.song(args.song)
    library = library.subset([song])
    work = Path(tempfile.mkdtemp(prefix="cmt-stream-"))
    try:
        quirks = Quirks(large_files={song.full_urls[0]: args.size})
        with CambridgeReplica(library, build_forum(library, ForumConfig(genres=())), quirks) as replica:
            settings = {"DATABASE_URL": f"sqlite:///{work}/db.sqlite3", "FILES_STORE": work / "files",
                        "MEDIA_STREAM_HOST_DELAY": 0, **replica.settings()}
            started = time.monotonic()
            process, log, stats = start_crawl("cambridge_mt", work, args={"download": "all"}, settings=settings)
            peak = 0.0
            while process.poll() is None:
                peak = max(peak, vm_hwm_mb(process.pid))
                time.sleep(0.02)
            seconds = time.monotonic() - started
            result = finish(process, log, stats)
        if result.returncode != 0:
            print(result.log[-3000:])
            return 1
        size_gb = args.size / 1e9
        print(f"{size_gb:.2f} GB ZIP (+ {len(song.full_urls) + len(song.excerpt_urls) - 1} small ZIPs and previews) "
              f"in {seconds:.1f} s ({args.size / 1e6 / seconds:.0f} MB/s, crawl start-up included); "
              f"crawler peak RSS {peak:.0f} MB")
        return 0
    finally:
        if args.keep:
            print(f"work folder kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
