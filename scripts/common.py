"""What several scripts share: the SoundCloud replica world a benchmark crawls
(its size options and the replica serving it) and the crawl stats a demo prints.

Imported as ``scripts.common`` once a script has put the checkout on ``sys.path``."""

from __future__ import annotations

import argparse
import json
import subprocess
from collections.abc import Mapping
from typing import Any

from replicas.process import start_replica_process


def add_world_arguments(parser: argparse.ArgumentParser, *, artists: int = 200, tracks: int = 30,
                        comments: int = 50) -> None:
    """--artists/--tracks/--comments: the size of the world (defaults: the ``make bench`` world)."""
    parser.add_argument("--artists", type=int, default=artists)
    parser.add_argument("--tracks", type=int, default=tracks)
    parser.add_argument("--comments", type=int, default=comments)


def start_world_replica(opts: argparse.Namespace, *flags: str) -> tuple[subprocess.Popen[str], dict[str, Any]]:
    """The SoundCloud replica serving the world ``opts`` sizes, without DataDome and
    short pages (a benchmark times the crawl, not its retries); ``flags`` are more replica options."""
    return start_replica_process(
        "replicas.soundcloud", "--artists", str(opts.artists), "--tracks", str(opts.tracks),
        "--comments", str(opts.comments), "--no-datadome", "--no-short-pages", *flags)


def print_crawl_stats(stats: Mapping[str, Any]) -> None:
    """The project's own crawl stats (soundscraping/...), as a demo ends."""
    interesting = {k: v for k, v in stats.items() if k.startswith("soundscraping/")}
    print("\nCrawl stats:\n" + json.dumps(interesting, indent=1, sort_keys=True))
