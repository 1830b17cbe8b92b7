"""Serve the Beatport replica from the command line (demos, benchmarks, a
browser pointed at it).

    python -m replicas.beatport --challenge --latency-ms 50

Prints ONE JSON line {"url": <www base>, "media": <image CDN base>, "samples": <preview CDN base>,
"tracks": <catalogue size>, "build_id": ...} to stdout, then serves until
SIGTERM/SIGINT.  Nothing else is written to stdout.
"""

from __future__ import annotations

import argparse
import sys

from replicas.beatport.server import BeatportReplica, Quirks
from replicas.beatport.world import CatalogueConfig, build_catalogue
from replicas.common import rate, serve_until_signalled


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m replicas.beatport", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--extra-tracks", type=int, default=260, help="made-up tracks beside the real top 100")
    q = p.add_argument_group("quirks")
    q.add_argument("--challenge", action="store_true", help="Cloudflare challenge on every page")
    q.add_argument("--challenge-after", type=int, default=None, metavar="N", help="challenge after N pages")
    q.add_argument("--unpassable", action="store_true", help="the challenge never hands out a clearance")
    q.add_argument("--https", action="store_true",
                   help="www over HTTPS (test CA printed as ca_file); Cloudflare judges the TLS ClientHello")
    q.add_argument("--clearance-ttl", type=int, default=1800)
    q.add_argument("--no-parens-403", action="store_true")
    q.add_argument("--allow-bot-user-agents", action="store_true")
    q.add_argument("--latency-ms", type=int, default=0)
    q.add_argument("--rate-limit", type=rate, default=None, metavar="N/SECONDS")
    s = p.add_argument_group("server")
    s.add_argument("--host", default="127.0.0.1")
    s.add_argument("--port", type=int, default=0)
    s.add_argument("--media-port", type=int, default=0)
    s.add_argument("--samples-port", type=int, default=0)
    s.add_argument("--preview-seconds", type=float, default=120.0, help="length of the synthesised previews")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    catalogue = build_catalogue(CatalogueConfig(seed=args.seed, extra_tracks=args.extra_tracks))
    quirks = Quirks(challenge=args.challenge, challenge_after=args.challenge_after,
                    challenge_passable=not args.unpassable, clearance_ttl=args.clearance_ttl,
                    parens_403=not args.no_parens_403, block_bot_user_agents=not args.allow_bot_user_agents,
                    latency_ms=args.latency_ms, rate_limit=args.rate_limit, https=args.https,
                    preview_seconds=args.preview_seconds)
    replica = BeatportReplica(catalogue, quirks, host=args.host,
                              ports={"www": args.port, "media": args.media_port,
                                                                   "samples": args.samples_port})
    urls = replica.start()
    info = {"url": urls["www"], "media": urls["media"], "samples": urls["samples"], "tracks": len(catalogue.tracks),
            "build_id": quirks.build_id}
    if replica.ca_file:  # --https: the test CA a client must trust
        info["ca_file"] = replica.ca_file
    return serve_until_signalled(info, replica.stop)


if __name__ == "__main__":
    sys.exit(main())
