"""Serve the Cambridge-MT replica from the command line.

    python -m replicas.cambridge_mt [--songs N] [--burst-400 30/1/0.3] \
        [--large URL=BYTES ...] [--drop URL=BYTES ...]

Prints ONE JSON line {"library_url", "forum", "file_hosts", "settings", "urls",
"counts"} to stdout, then serves until SIGTERM/SIGINT.
"""

from __future__ import annotations

import argparse
import sys

from replicas.cambridge_mt import CambridgeReplica, ForumConfig, Quirks, build_forum, load_library
from replicas.common import serve_until_signalled


def _pair(text: str) -> tuple[str, int]:
    url, _, size = text.rpartition("=")
    if not url or not size.isdigit():
        raise argparse.ArgumentTypeError("expected URL=BYTES")
    return url, int(size)


def _burst(text: str) -> tuple[int, float, float]:
    try:
        n, window, pause = text.split("/")
        return int(n), float(window), float(pause)
    except ValueError as exc:
        raise argparse.ArgumentTypeError("expected N/WINDOW/PAUSE, e.g. 30/1/30") from exc


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m replicas.cambridge_mt", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--songs", type=int, default=None, help="serve only the first N songs of the library")
    p.add_argument("--burst-400", type=_burst, default=None, metavar="N/WINDOW/PAUSE")
    p.add_argument("--large", type=_pair, action="append", default=[], metavar="URL=BYTES",
                   help="serve generated content of this size at a real file URL")
    p.add_argument("--drop", type=_pair, action="append", default=[], metavar="URL=BYTES",
                   help="drop the connection once after BYTES of a GET of a real file URL")
    p.add_argument("--host", default="127.0.0.1")
    args = p.parse_args(argv)
    library = load_library()
    if args.songs is not None:
        library = library.subset(library.songs[: args.songs])
    forum = build_forum(library, ForumConfig(seed=args.seed))
    quirks = Quirks(large_files=dict(args.large), drop_after=dict(args.drop), burst_400=args.burst_400)
    replica = CambridgeReplica(library, forum, quirks, host=args.host)
    urls = replica.start()
    info = {"library_url": replica.library_url, "forum": urls["forum"], "file_hosts": replica.file_hosts,
            "settings": replica.settings(), "urls": urls,
            "counts": {"songs": len(library.songs), "threads": len(forum.threads), "posts": len(forum.posts)}}
    return serve_until_signalled(info, replica.stop)

if __name__ == "__main__":
    sys.exit(main())
