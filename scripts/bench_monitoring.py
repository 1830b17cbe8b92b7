"""``make bench-monitoring``: what monitoring costs a crawl.

The same soundcloud_artists crawl of a replica world (default 40 artists x 20
tracks x 50 comments, api-v2 over plain HTTP, replica in its own process),
storage and media off so the crawl itself is as cheap as it gets, three ways:
monitoring off (``SPIDERMON_ENABLED=False``), on with the default validation
sample (``MONITOR_VALIDATION_EVERY=10``), and on validating every item (1).
Prints items/s, CPU seconds of the crawler process and the ratios.  The
machine is shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from replicas.process import stop_replica_process  # noqa: E402
from scripts.common import add_world_arguments, start_world_replica  # noqa: E402
from tests.crawl import REPLICA_BUDGETS, crawl_command  # noqa: E402


def timed_crawl(label: str, workdir: Path, artists_file: Path, env: dict[str, str], settings: dict[str, str]) -> dict:
    stats_file = workdir / f"{label}.stats.json"
    cmd = crawl_command("soundcloud_artists", {"artists_file": str(artists_file)},
                        {"STATS_FILE": stats_file, "LOG_FILE": workdir / f"{label}.log", "LOG_LEVEL": "INFO",
                         "MEDIA_ENABLED": "False", "STORAGE_ENABLED": "False", "MONITOR_REPORT_DIR": workdir,
                         **REPLICA_BUDGETS, **settings})
    load = os.getloadavg()[0]
    process = subprocess.Popen(cmd, cwd=REPO, env={**os.environ, **env})
    _, status, rusage = os.wait4(process.pid, 0)
    stats = json.loads(stats_file.read_text())
    elapsed = float(stats["elapsed_time_seconds"])
    items = int(stats.get("item_scraped_count", 0))
    return {"label": label, "exit": os.waitstatus_to_exitcode(status), "items": items, "elapsed_s": elapsed,
            "items_per_s": items / elapsed, "cpu_s": rusage.ru_utime + rusage.ru_stime, "load": load,
            "validated": int(stats.get("spidermon/validation/items", 0)),
            "monitors_failed": stats.get("soundscraping/monitors/failed")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    add_world_arguments(parser, artists=40, tracks=20)
    opts = parser.parse_args()
    workdir = REPO / "data" / "bench-monitoring"
    workdir.mkdir(parents=True, exist_ok=True)
    replica, info = start_world_replica(opts)
    try:
        artists_file = workdir / "artists.txt"
        artists_file.write_text("\n".join(info["artists"]) + "\n")
        env = {"SOUNDCLOUD_URL": info["web"], "SOUNDCLOUD_API_URL": info["api"]}
        runs = [timed_crawl("off", workdir, artists_file, env, {"SPIDERMON_ENABLED": "False"}),
                timed_crawl("on", workdir, artists_file, env, {}),
                timed_crawl("on, validate all", workdir, artists_file, env, {"MONITOR_VALIDATION_EVERY": "1"})]
    finally:
        stop_replica_process(replica)
    print(f"\nmonitoring benchmark: {opts.artists} artists x {opts.tracks} tracks x {opts.comments} comments "
          "(storage and media off)")
    print(f"{'run':<18}{'items':>8}{'validated':>11}{'items/s':>9}{'CPU s':>8}{'load':>6}{'exit':>6}")
    for r in runs:
        print(f"{r['label']:<18}{r['items']:>8}{r['validated']:>11}{r['items_per_s']:>9.0f}{r['cpu_s']:>8.1f}"
              f"{r['load']:>6.1f}{r['exit']:>6}")
    off = runs[0]
    for r in runs[1:]:
        print(f"{r['label']}: {r['items_per_s'] / off['items_per_s']:.2f} x the items/s of 'off', "
              f"{r['cpu_s'] / off['cpu_s']:.2f} x its CPU seconds")


if __name__ == "__main__":
    main()
