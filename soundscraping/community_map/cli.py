"""``soundscraping map``: options, the stages with their progress lines, and
``summary.json``."""

from __future__ import annotations

import argparse
import contextlib
import json
import resource
import sqlite3
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import scipy.sparse as sp

from soundscraping.community_map import MapError
from soundscraping.community_map.cluster import Community, cluster, communities
from soundscraping.community_map.data import (
    Account,
    FilterResult,
    Graph,
    default_weights,
    filter_rows,
    load_accounts,
    read_graph,
    top_partners,
)
from soundscraping.community_map.embed import METHODS, TSNE_JOBS, min_rows_for, pca_2d, reduce_svd, to_2d
from soundscraping.community_map.render import (
    DEFAULT_PROFILE_BASE,
    MapPoints,
    write_communities_csv,
    write_csv,
    write_html,
    write_png,
)
from soundscraping.preflight import folder_write_problem
from soundscraping.storage import KINDS, Database, StorageError, default_database_url, error_line, mask_url


def map_points(db: Database, graph: Graph, kept: FilterResult, xy: np.ndarray, pca: np.ndarray,
               clusters: np.ndarray | None = None, profile_base: str = DEFAULT_PROFILE_BASE,
               method: str = "t-SNE", found: Sequence[Community] = ()) -> MapPoints:
    """Coordinates plus names, followers and top partners of the kept accounts
    (and the names of the communities' central accounts)."""
    account_ids = graph.account_ids[kept.kept]
    partners = top_partners(kept.normalised, kept.target_ids)
    central = [a.account_id for c in found for a in c.central]
    known = load_accounts(db, [*account_ids.tolist(), *(t for row in partners for t, _ in row), *central])
    accounts = []
    for uid in account_ids.tolist():
        a = known.get(uid) or Account()
        if a.followers is None and uid in graph.followers:  # the graph crawl noted it when visiting
            a = Account(a.permalink, a.username, graph.followers[uid])
        accounts.append(a)

    def display(uid: int) -> str:
        a = known.get(uid)
        return (a.username or a.permalink or str(uid)) if a else str(uid)

    return MapPoints(
        account_ids=account_ids, xy=xy, pca=pca, accounts=accounts,
        partners=[[("(self)" if t == int(account_ids[i]) else display(t), share) for t, share in row]
                  for i, row in enumerate(partners)],
        clusters=clusters, profile_base=profile_base, method=method, communities=list(found),
        names={uid: display(uid) for uid in central},
    )


@dataclass
class MapOptions:
    database_url: str
    out: Path
    weights: dict[str, float] = field(default_factory=default_weights)
    min_score: float = 50.0
    max_share: float = 0.4
    dims: int = 50
    perplexity: float = 30.0
    seed: int = 0
    jobs: int = TSNE_JOBS
    method: str = "tsne"
    clusters: bool = True
    max_clusters: int = 30
    labels: int = 40
    profile_base: str = DEFAULT_PROFILE_BASE


class Stages:
    """Progress lines and seconds per stage."""

    def __init__(self, total: int, out: TextIO):
        self.total, self.out, self.done = total, out, 0
        self.seconds: dict[str, float] = {}
        self.peak_rss_mb: dict[str, float] = {}  # the process's peak so far, after each stage

    @contextlib.contextmanager
    def stage(self, key: str, title: str) -> Iterator[None]:
        self.done += 1
        print(f"[{self.done}/{self.total}] {title}...", file=self.out, flush=True)
        start = time.monotonic()
        yield
        self.seconds[key] = round(time.monotonic() - start, 3)
        self.peak_rss_mb[key] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
        print(f"      done in {self.seconds[key]:.1f} s (peak RSS {self.peak_rss_mb[key]:,.0f} MB)",
              file=self.out, flush=True)


def check_out_dir(out: Path) -> None:
    """Fail before the heavy work if --out cannot be written."""
    if problem := folder_write_problem(out):
        raise MapError(f"cannot write to --out {out}: {problem}")


def open_database(url: str) -> Database:
    db = Database.from_url(url)  # StorageError on a bad scheme
    path = getattr(db, "path", None)
    if db.dialect == "sqlite" and path is not None and not path.exists():
        # Opening would create an empty file; a map of nothing helps nobody.
        raise MapError(f"SQLite database {path} does not exist (crawl first, or pass --database-url)")
    db.connect()
    return db


def run_map(opts: MapOptions, out: TextIO | None = None) -> dict[str, Any]:
    """The whole command; returns the summary also written to summary.json."""
    out = out or sys.stdout
    started = time.monotonic()
    check_out_dir(opts.out)
    stages = Stages(7 if opts.clusters else 6, out)
    db = open_database(opts.database_url)
    try:
        with stages.stage("read", f"reading soundcloud_interactions from {mask_url(opts.database_url)}"):
            graph = read_graph(db, opts.weights, out)

        with stages.stage("filter", "filtering rows"):
            kept = filter_rows(graph.matrix, graph.target_ids, opts.min_score, opts.max_share)
            print(f"  visited accounts: {kept.visited:,}", file=out)
            print(f"  score sum >= {opts.min_score:g}: {kept.after_score:,} kept, "
                  f"{kept.visited - kept.after_score:,} dropped", file=out)
            print(f"  largest share <= {opts.max_share:g}: {kept.after_share:,} kept, "
                  f"{kept.after_score - kept.after_share:,} dropped", file=out)
            print(f"  matrix: {kept.normalised.shape[0]:,} accounts x {kept.normalised.shape[1]:,} targets, "
                  f"{kept.normalised.nnz:,} non-zero", file=out, flush=True)
            if kept.after_share == 0:
                raise MapError(f"no account left after filtering ({kept.visited} visited, {kept.after_score} with "
                               f"score >= {opts.min_score:g}); loosen --min-score/--max-share")
            if opts.method == "tsne" and kept.after_share < min_rows_for(opts.perplexity):
                raise MapError(f"only {kept.after_share} accounts left after filtering; t-SNE with perplexity "
                               f"{opts.perplexity:g} needs at least {min_rows_for(opts.perplexity)} (lower "
                               "--perplexity or loosen --min-score/--max-share)")
        graph.matrix = sp.csr_matrix((0, 0))  # frees the unfiltered matrix before the SVD

        with stages.stage("svd", f"truncated SVD to {opts.dims} dimensions"):
            reduced = reduce_svd(kept.normalised, opts.dims, opts.seed)
            print(f"  {reduced.shape[1]} components", file=out)
        with stages.stage("pca", "2-component PCA (for comparison)"):
            pca = pca_2d(kept.normalised, opts.seed)
        method = METHODS[opts.method]
        detail = f"perplexity {opts.perplexity:g}, " if opts.method == "tsne" else ""
        with stages.stage(opts.method, f"{method} to 2-D ({detail}seed {opts.seed})"):
            xy = to_2d(opts.method, reduced, opts.perplexity, opts.seed, opts.jobs, out)
        labels = None
        cluster_info: dict[str, Any] = {}
        found: list[Community] = []
        if opts.clusters:
            with stages.stage("clusters", f"k-means communities (k = 2..{opts.max_clusters} by silhouette), "
                                          "named by their central accounts"):
                labels, k, silhouette = cluster(reduced, opts.max_clusters, opts.seed)
                cluster_info = {"k": k, "silhouette": round(silhouette, 4),
                                "sizes": np.bincount(labels).tolist()}
                print(f"  k = {k} (silhouette {silhouette:.3f}), sizes {cluster_info['sizes']}", file=out)
                if k == opts.max_clusters:
                    print("  k is the largest tried: --max-clusters higher may fit better", file=out)
                # The members' weighted scores (the rows before normalising).
                scores = sp.csr_matrix(sp.diags(kept.totals) @ kept.normalised)
                found = communities(scores, kept.target_ids, labels)

        files = ["map.html", "map.png", "pca.png", "coordinates.csv", *(["communities.csv"] if opts.clusters else [])]
        with stages.stage("write", f"writing {', '.join(files)} to {opts.out}"):
            points = map_points(db, graph, kept, xy, pca, labels, opts.profile_base, method, found)
            for c in found:
                print(f"  community {c.id} ({c.size:,} accounts): {points.community_name(c.id)}", file=out)
            subtitle = f"{len(points.account_ids):,} accounts, {kept.normalised.shape[1]:,} interaction targets"
            try:
                write_csv(opts.out / "coordinates.csv", points)
                if opts.clusters:
                    write_communities_csv(opts.out / "communities.csv", points)
                write_html(opts.out / "map.html", points, subtitle=subtitle)
                write_png(opts.out / "map.png", points, xy, f"SoundCloud community map ({method}) - {subtitle}",
                          opts.labels, activity=kept.totals)
                write_png(opts.out / "pca.png", points, pca, "2-component PCA (for comparison)", labels=0,
                          size_inches=7.0, name_communities=False)
            except OSError as exc:
                raise MapError(f"cannot write to --out {opts.out}: {exc.strerror or exc}") from exc
        if found:
            cluster_info["communities"] = [
                {"id": c.id, "size": c.size, "name": points.community_name(c.id),
                 "central": [{"id": a.account_id, "name": points.names.get(a.account_id), "score": a.score,
                              "share": round(a.share, 4)} for a in c.central]} for c in found]
    finally:
        db.close()

    summary = {
        "database_url": mask_url(opts.database_url),
        "rows_from": graph.rows_from,
        "interactions": graph.interactions,
        "targets": len(graph.target_ids),
        "visited": kept.visited, "after_score": kept.after_score, "after_share": kept.after_share,
        "kept_targets": int(kept.normalised.shape[1]),
        "options": {"weights": opts.weights, "min_score": opts.min_score, "max_share": opts.max_share,
                    "dims": opts.dims, "svd_components": int(reduced.shape[1]), "method": opts.method,
                    "perplexity": opts.perplexity, "seed": opts.seed, "clusters": opts.clusters,
                    "max_clusters": opts.max_clusters},
        "clusters": cluster_info,
        "seconds": {**stages.seconds, "total": round(time.monotonic() - started, 3)},
        "peak_rss_mb": stages.peak_rss_mb,
        "files": [*files, "summary.json"],
    }
    try:
        (opts.out / "summary.json").write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    except OSError as exc:
        raise MapError(f"cannot write to --out {opts.out}: {exc.strerror or exc}") from exc
    print(f"map of {summary['after_share']:,} accounts written to {opts.out} "
          f"in {summary['seconds']['total']:.1f} s", file=out, flush=True)
    return summary


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", default=None,
                        help="database to read (default: the DATABASE_URL setting/env var, "
                             "sqlite:///data/soundscraping.sqlite3)")
    parser.add_argument("--out", type=Path, default=Path("data/map"), help="output folder (default: data/map)")
    weights = default_weights()
    for kind in KINDS:
        parser.add_argument(f"--{kind}-weight", type=float, default=weights[kind], metavar="W",
                            help=f"score of one {kind} (default {weights[kind]:g}, the GRAPH_WEIGHTS setting)")
    parser.add_argument("--min-score", type=float, default=50.0,
                        help="drop accounts whose score sum is below this (default 50)")
    parser.add_argument("--max-share", type=float, default=0.4,
                        help="drop accounts whose largest target takes more than this share of their "
                             "score (default 0.4)")
    parser.add_argument("--dims", type=int, default=50,
                        help="truncated-SVD dimensions before t-SNE/UMAP (default 50)")
    parser.add_argument("--method", choices=sorted(METHODS), default="tsne",
                        help="2-D map: tsne (openTSNE, default) or umap (umap-learn; with the seed it runs on "
                             "one thread, so the same data gives the same map)")
    parser.add_argument("--perplexity", type=float, default=30.0, help="t-SNE perplexity (default 30)")
    parser.add_argument("--seed", type=int, default=0, help="random seed: same data + seed = same map (default 0)")
    parser.add_argument("--jobs", type=int, default=TSNE_JOBS,
                        help=f"t-SNE threads (default {TSNE_JOBS}; -1 = all cores; UMAP always uses one).  The map "
                             "depends on this number too: a fixed number keeps it the same on every machine")
    parser.add_argument("--clusters", action=argparse.BooleanOptionalAction, default=True,
                        help="colour communities (default; --no-clusters: one colour): k-means on the L2-normalised "
                             "SVD embedding, k = 2..--max-clusters with the best silhouette score, each named by "
                             "its 3 most central accounts; adds a cluster column to coordinates.csv and writes "
                             "communities.csv")
    parser.add_argument("--max-clusters", type=int, default=30, help="largest k tried (default 30)")
    parser.add_argument("--labels", type=int, default=40, help="names written on map.png (default 40)")
    parser.add_argument("--profile-base", default=DEFAULT_PROFILE_BASE,
                        help=f"profile URL = this + permalink (default {DEFAULT_PROFILE_BASE})")


def options_from_args(args: argparse.Namespace) -> MapOptions:
    weights = {k: getattr(args, f"{k}_weight") for k in KINDS}
    if args.perplexity <= 0 or args.dims < 2 or args.min_score < 0 or not 0 < args.max_share <= 1 \
            or args.max_clusters < 2 or args.labels < 0 or min(weights.values()) < 0 or max(weights.values()) <= 0:
        raise MapError("need --perplexity > 0, --dims >= 2, --min-score >= 0, 0 < --max-share <= 1, "
                       "--max-clusters >= 2, --labels >= 0 and weights >= 0 (not all 0)")
    return MapOptions(
        database_url=args.database_url or default_database_url(), out=args.out,
        weights=weights, min_score=args.min_score,
        max_share=args.max_share, dims=args.dims, perplexity=args.perplexity, seed=args.seed, jobs=args.jobs,
        method=args.method,
        clusters=args.clusters, max_clusters=args.max_clusters, labels=args.labels, profile_base=args.profile_base,
    )


def run_cli(args: argparse.Namespace, prog: str = "soundscraping map") -> int:
    """Run with parsed arguments; user mistakes become one stderr line and 2."""
    import psycopg2

    try:
        run_map(options_from_args(args))
    except (MapError, StorageError) as exc:
        print(f"{prog}: error: {exc}", file=sys.stderr)
        return 2
    except (psycopg2.Error, sqlite3.Error) as exc:
        print(f"{prog}: error: database error: {error_line(exc)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{prog}: interrupted", file=sys.stderr)
        return 130
    return 0


def build_parser(prog: str = "soundscraping map") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description="Draw the community map of the SoundCloud interaction graph "
                               "(map.html, map.png, pca.png, coordinates.csv, communities.csv, summary.json in --out).")
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(build_parser().parse_args(argv))

