"""Serve the SoundCloud replica from the command line (e.g. for benchmarks).

    python -m replicas.soundcloud --artists 200 --tracks 30 --comments 50
    python -m replicas.soundcloud --graph --accounts 2000 --population 150000 \
        --likes 500 --reposts 500 --followings 300 --comments 200 --latency-ms 50

Prints ONE JSON line {"web","api","assets","images","artists":[permalinks],...}
(graph mode: {"web","api","assets","images","seeds":[permalinks of the
accounts with the most followers],"missing":[...],"client_id","counts"})
to stdout, then serves until SIGTERM/SIGINT.  Nothing else is written to stdout
(callers read one line from a pipe and never drain it again).
"""

from __future__ import annotations

import argparse
import sys
import threading
from typing import Any

from replicas.common import rate, serve_until_signalled
from replicas.soundcloud.graph import GraphWorld, GraphWorldConfig
from replicas.soundcloud.server import Quirks, SoundCloudReplica
from replicas.soundcloud.world import WorldConfig, build_world


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m replicas.soundcloud", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    w = p.add_argument_group("world")
    w.add_argument("--seed", type=int, default=1)
    w.add_argument("--artists", type=int, default=5)
    w.add_argument("--tracks", type=int, default=8, help="tracks per artist")
    w.add_argument("--comments", type=int, default=None,
                   help="comments per track (average, default 12); with --graph: per account (default 15)")
    w.add_argument("--commenters", type=int, default=None, help="commenter pool (default artists*20)")
    g = p.add_argument_group("interaction graph (--graph)")
    g.add_argument("--graph", action="store_true", help="serve a GraphWorld (likes/reposts/followings/comments)")
    g.add_argument("--accounts", type=int, default=200, help="users with interactions")
    g.add_argument("--population", type=int, default=None, help="all users (default accounts*20)")
    g.add_argument("--likes", type=int, default=40, help="likes per account")
    g.add_argument("--reposts", type=int, default=20, help="reposts per account")
    g.add_argument("--followings", type=int, default=30, help="followings per account")
    g.add_argument("--communities", type=int, default=4)
    g.add_argument("--playlist-share", type=float, default=0.2)
    g.add_argument("--deleted-every", type=int, default=None, metavar="N",
                   help="every N-th like/repost refers to a deleted object")
    g.add_argument("--missing-users", default="", metavar="ID,ID", help="user ids answering 404")
    g.add_argument("--seeds", type=int, default=5, help="how many seed permalinks to print")
    q = p.add_argument_group("quirks")
    q.add_argument("--no-datadome", action="store_true", help="do not protect /users/{id}/tracks")
    q.add_argument("--no-short-pages", action="store_true", help="always full pages, no empty page")
    q.add_argument("--rate-limit", type=rate, default=None, metavar="N/SECONDS")
    q.add_argument("--rotate-client-id-after", type=int, default=None, metavar="N")
    q.add_argument("--error-5xx-every", type=int, default=None, metavar="N")
    q.add_argument("--malformed-json-every", type=int, default=None, metavar="N")
    q.add_argument("--latency-ms", type=int, default=0)
    q.add_argument("--datadome-cookie-ttl", type=int, default=3600)
    q.add_argument("--https", action="store_true",
                   help="api-v2 over HTTPS (test CA printed as ca_file); DataDome judges the TLS ClientHello")
    q.add_argument("--impersonation-refused", action="store_true",
                   help="HTTPS: a Chrome-like handshake also needs a valid datadome cookie")
    q.add_argument("--tracks-refused", default="", metavar="N,N",
                   help="artists (0-based index) whose /tracks DataDome refuses to every client")
    q.add_argument("--stream-refused", default="", metavar="N,N",
                   help="artists (0-based index) whose /stream/users/{id} is refused too")
    q.add_argument("--client-id", default=None, help="fixed initial client_id")
    q.add_argument("--no-graph-short-pages", action="store_true",
                   help="graph lists: always full pages, no empty page")
    q.add_argument("--no-repeat-last-repost-page", action="store_true",
                   help="the last repost page has next_href null instead of pointing at itself")
    q.add_argument("--tiny-repost-pages", action="store_true", help="repost pages hold at most 10 items")
    s = p.add_argument_group("server")
    s.add_argument("--host", default="127.0.0.1")
    for name in ("web", "api", "assets", "images"):
        s.add_argument(f"--{name}-port", type=int, default=0)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    graph: GraphWorld | None = None
    if args.graph:
        missing = tuple(int(x) for x in args.missing_users.split(",") if x.strip())
        graph = GraphWorld(GraphWorldConfig(
            seed=args.seed, accounts=args.accounts, population=args.population,
            likes_per_account=args.likes, reposts_per_account=args.reposts,
            followings_per_account=args.followings,
            comments_per_account=15 if args.comments is None else args.comments,
            playlist_share=args.playlist_share, communities=args.communities,
            deleted_every=args.deleted_every, missing_users=missing))
    else:
        world = build_world(WorldConfig(seed=args.seed, artists=args.artists,
                                        tracks_per_artist=args.tracks,
                                        comments_per_track=12 if args.comments is None else args.comments,
                                        commenters=args.commenters))
    artist_ids = [] if graph is not None else world.artist_ids

    def artists_at(text: str) -> frozenset[int]:
        return frozenset(artist_ids[int(i)] for i in text.split(",") if i.strip())

    quirks = Quirks(short_pages=not args.no_short_pages,
                    https=args.https, impersonation_refused=args.impersonation_refused,
                    tracks_refused_users=artists_at(args.tracks_refused),
                    stream_refused_users=artists_at(args.stream_refused),
                    rotate_client_id_after=args.rotate_client_id_after, rate_limit=args.rate_limit,
                    error_5xx_every=args.error_5xx_every,
                    malformed_json_every=args.malformed_json_every, latency_ms=args.latency_ms,
                    datadome=not args.no_datadome, datadome_cookie_ttl=args.datadome_cookie_ttl,
                    initial_client_id=args.client_id,
                    graph_short_pages=not args.no_graph_short_pages,
                    repeat_last_repost_page=not args.no_repeat_last_repost_page,
                    tiny_repost_pages=args.tiny_repost_pages)
    ports = {n: getattr(args, f"{n}_port") for n in ("web", "api", "assets", "images")}
    replica = SoundCloudReplica(graph if graph is not None else world, quirks, host=args.host, ports=ports)
    urls = replica.start()
    info: dict[str, Any] = dict(urls)
    if replica.ca_file:  # --https: the test CA a client must trust
        info["ca_file"] = replica.ca_file
    if graph is not None:
        info["seeds"] = graph.seeds(args.seeds)
        info["missing"] = [graph.permalink(u) for u in sorted(graph.missing) if u in graph]
        info["client_id"] = replica.client_id
        info["counts"] = graph.counts()
        info["build_seconds"] = round(graph.build_seconds, 3)
    else:
        info["artists"] = [a["permalink"] for a in world.artists]
        info["missing"] = list(world.missing_permalinks)
        info["client_id"] = replica.client_id
        info["counts"] = world.counts()

    def warm_followers_index() -> None:
        if graph is not None:  # the followers index (~1-2 s for big worlds) off the request path
            threading.Thread(target=graph.warm, name="graph-warm", daemon=True).start()

    return serve_until_signalled(info, replica.stop, after_print=warm_followers_index)


if __name__ == "__main__":
    sys.exit(main())
