"""``make bench-map``: the community map at the original study's scale and at
the author's later, real scale.

- ``study``: 2,250 visited accounts x 121,827 targets, ~2,000 interactions per
  account of random kinds (~4.5 M rows), as in the original study;
- ``author``: 8,095 accounts x 489,554 targets, the 500 most recent
  interactions of each kind per account, as the author collected them
  (~16 M rows).

Each graph is generated (numpy, fixed seed) in planted communities, with a few
accounts below the score threshold and a few dominated by themselves, and
loaded with binary COPY into its own PostgreSQL database.  That database is
kept: a later run that finds it complete reuses it (and says so);
``--regenerate`` rebuilds it, ``--drop-db`` removes it afterwards.  Then
``python -m soundscraping.community_map`` runs in a subprocess per scale and
method; the script prints the wall time of every stage, the whole command's
wall time, the map process's peak RSS and CPU time (``os.wait4`` rusage), and
the map's quality against the planted communities (nearest neighbours on the
2-D map in the same planted community).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import os
import struct
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import psycopg2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from soundscraping.storage import TABLES, create_sql  # noqa: E402
from tests.crawl import PG_ADMIN, admin  # noqa: E402

KINDS = {"like": 0.70, "repost": 0.12, "follow": 0.10, "comment": 0.08}
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in Unix microseconds: binary timestamptz counts from there
# Bump when the generated data changes: a kept database of another version is rebuilt.
GENERATOR_VERSION = 2
COPY_ROWS = 2_000_000  # rows per COPY: bounds the loader's buffers


@dataclass(frozen=True)
class Scale:
    name: str
    accounts: int
    targets: int
    per_account: int = 0  # interactions of random kinds per account ...
    per_kind: int = 0  # ... or this many of each kind (the most recent 500 of each list)
    communities: int = 20
    seed: int = 0
    max_seconds: float = 90.0
    max_rss_mb: float = 1536.0

    @property
    def fingerprint(self) -> str:
        spec = (GENERATOR_VERSION, self.accounts, self.targets, self.per_account, self.per_kind, self.communities,
                self.seed)
        return hashlib.sha1(repr(spec).encode()).hexdigest()[:8]

    @property
    def database(self) -> str:
        return f"soundscraping_bench_map_{self.name}_{self.fingerprint}"


SCALES = {
    "study": Scale("study", 2250, 121_827, per_account=2000),
    "author": Scale("author", 8095, 489_554, per_kind=500, max_rss_mb=2048.0),
}


class Population:
    """Targets in communities with Zipf-like popularity; visited accounts are
    targets too (artists) and each belongs to one community."""

    def __init__(self, rng: np.random.Generator, accounts: int, targets: int, communities: int):
        self.target_ids = np.sort(rng.choice(np.arange(10_000_000, 10_000_000 + targets * 20), targets,
                                             replace=False))
        self.account_ids = self.target_ids[rng.choice(targets, accounts, replace=False)]
        target_community = rng.integers(communities, size=targets)
        popularity = 1 / rng.permutation(np.arange(1, targets + 1)) ** 0.9  # stars and a long tail
        self.by_community = [np.flatnonzero(target_community == c) for c in range(communities)]
        # Cumulative distributions, sampled with searchsorted (rng.choice(p=...) would rebuild them per call).
        self.community_cdf = [np.cumsum(popularity[idx]) / popularity[idx].sum() for idx in self.by_community]
        self.global_cdf = np.cumsum(popularity) / popularity.sum()
        self.account_community = rng.integers(communities, size=accounts)

    def pick(self, rng: np.random.Generator, community: int, n: int) -> np.ndarray:
        """``n`` target ids: 70% from inside ``community``, the rest from anywhere."""
        inside = rng.random(n) < 0.7
        picks = np.empty(n, dtype=np.int64)
        members, cdf = self.by_community[community], self.community_cdf[community]
        picks[inside] = members[np.searchsorted(cdf, rng.random(int(inside.sum()))).clip(max=len(members) - 1)]
        picks[~inside] = np.searchsorted(self.global_cdf, rng.random(int((~inside).sum()))).clip(
            max=len(self.target_ids) - 1)
        return self.target_ids[picks]


def generate_random_kinds(scale: Scale) -> dict[str, np.ndarray]:
    """The study's graph: ~per_account interactions of random kinds per account
    (the same data as before the author's scale was added)."""
    rng = np.random.default_rng(scale.seed)
    pop = Population(rng, scale.accounts, scale.targets, scale.communities)
    # 6% extra: quiet accounts and duplicate follows (dropped below) take about that many.
    mean = scale.per_account * 1.06
    sizes = np.clip(rng.normal(mean, mean / 5, scale.accounts), mean / 10, None).astype(np.int64)
    quiet = rng.random(scale.accounts) < 0.03  # too little activity: below the score threshold
    sizes[quiet] = rng.integers(10, 40, int(quiet.sum()))
    dominated = rng.random(scale.accounts) < 0.03  # mostly interacting with themselves
    sources, tgts = [], []
    for i in range(scale.accounts):
        n = int(sizes[i])
        chosen = pop.pick(rng, pop.account_community[i], n)
        if dominated[i]:
            chosen[: n // 2] = pop.account_ids[i]
        sources.append(np.full(n, pop.account_ids[i], dtype=np.int64))
        tgts.append(chosen)
    source, target = np.concatenate(sources), np.concatenate(tgts)
    kind = rng.choice(len(KINDS), len(source), p=list(KINDS.values())).astype(np.int8)
    follow = kind == list(KINDS).index("follow")
    # A follow has no object: one per (source, target), like the table's unique key.
    keep = np.ones(len(source), dtype=bool)
    pair = source[follow] * (1 << 24) + np.searchsorted(pop.target_ids, target[follow])
    _, first = np.unique(pair, return_index=True)
    keep[np.flatnonzero(follow)] = False
    keep[np.flatnonzero(follow)[first]] = True
    return finish(rng, pop, source, kind, target, keep)


def generate_per_kind(scale: Scale) -> dict[str, np.ndarray]:
    """The author's graph: the ``per_kind`` most recent likes, reposts,
    followings and comments of every account (fewer for quiet accounts)."""
    rng = np.random.default_rng(scale.seed)
    pop = Population(rng, scale.accounts, scale.targets, scale.communities)
    quiet = rng.random(scale.accounts) < 0.03
    dominated = rng.random(scale.accounts) < 0.03
    follow_code = list(KINDS).index("follow")
    sources, tgts, kinds = [], [], []
    for i in range(scale.accounts):
        account, community = pop.account_ids[i], pop.account_community[i]
        for code in range(len(KINDS)):
            n = int(rng.integers(2, 10)) if quiet[i] else scale.per_kind
            if code == follow_code:  # one follow per account followed: distinct targets
                drawn = pop.pick(rng, community, n * 2)
                _, first = np.unique(drawn, return_index=True)
                chosen = drawn[np.sort(first)][:n]
            else:
                chosen = pop.pick(rng, community, n)
                if dominated[i]:
                    chosen[: n // 2] = account
            sources.append(np.full(len(chosen), account, dtype=np.int64))
            tgts.append(chosen)
            kinds.append(np.full(len(chosen), code, dtype=np.int8))
    source, target, kind = np.concatenate(sources), np.concatenate(tgts), np.concatenate(kinds)
    return finish(rng, pop, source, kind, target, np.ones(len(source), dtype=bool))


def finish(rng: np.random.Generator, pop: Population, source: np.ndarray, kind: np.ndarray, target: np.ndarray,
           keep: np.ndarray) -> dict[str, np.ndarray]:
    """Object ids (one distinct track or playlist per row, none for a follow)
    and times (2020-2025) of the kept rows."""
    obj = np.arange(len(source), dtype=np.int64) + 500_000_000
    obj[kind == list(KINDS).index("follow")] = -1
    when = rng.integers(1_600_000_000_000_000, 1_750_000_000_000_000, len(source)) - PG_EPOCH_US
    return {"source": source[keep], "kind": kind[keep], "target": target[keep], "object": obj[keep],
            "when": when[keep], "accounts": pop.account_ids, "targets": pop.target_ids}


def copy_interactions(cur: psycopg2.extensions.cursor, kind: str, cols: dict[str, np.ndarray]) -> None:
    """COPY one kind's rows in PostgreSQL's binary format, built by numpy
    (fixed-width records: the kind text has one length per COPY)."""
    name = kind.encode()
    fields = [("n", ">i2"), ("l1", ">i4"), ("source", ">i8"), ("l2", ">i4"), ("kind", f"S{len(name)}"),
              ("l3", ">i4"), ("target", ">i8"), ("l4", ">i4")]
    fields += [] if kind == "follow" else [("object", ">i8")]
    fields += [("l5", ">i4"), ("when", ">i8")]
    records = np.zeros(len(cols["source"]), dtype=np.dtype(fields))
    records["n"], records["l1"], records["l2"], records["l3"], records["l5"] = 5, 8, len(name), 8, 8
    records["source"], records["kind"], records["target"], records["when"] = (
        cols["source"], name, cols["target"], cols["when"])
    if kind == "follow":
        records["l4"] = -1  # NULL object_id
    else:
        records["l4"], records["object"] = 8, cols["object"]
    payload = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0) + records.tobytes() + struct.pack(">h", -1)
    cur.copy_expert("COPY soundcloud_interactions (source_user_id, kind, target_user_id, object_id, created_at) "
                    "FROM STDIN WITH (FORMAT binary)", io.BytesIO(payload))


def copy_rows(cur: psycopg2.extensions.cursor, table: str, columns: list[str], rows: list[tuple[Any, ...]]) -> None:
    """COPY plain rows (numbers, simple text, booleans) in CSV."""
    text = "".join(",".join("" if v is None else str(v) for v in row) + "\n" for row in rows)
    cur.copy_expert(f"COPY {table} ({', '.join(columns)}) FROM STDIN WITH (FORMAT csv)", io.StringIO(text))


def load(database_url: str, scale: Scale, graph: dict[str, np.ndarray]) -> None:
    conn = psycopg2.connect(database_url)
    with conn, conn.cursor() as cur:
        # The tables without their indexes: built once after the load rather than row by row.
        for name in ("soundcloud_interactions", "soundcloud_graph_visits", "soundcloud_users"):
            cur.execute(create_sql(TABLES[name], "postgresql")[0])
        for code, kind in enumerate(KINDS):
            rows = np.flatnonzero(graph["kind"] == code)
            for start in range(0, len(rows), COPY_ROWS):
                part = rows[start:start + COPY_ROWS]
                copy_interactions(cur, kind, {k: graph[k][part] for k in ("source", "target", "object", "when")})
        copy_rows(cur, "soundcloud_graph_visits", ["user_id", "position"],
                  [(int(u), i) for i, u in enumerate(graph["accounts"])])
        followers = np.random.default_rng(1).lognormal(6, 2.5, len(graph["targets"])).astype(np.int64)
        copy_rows(cur, "soundcloud_users", ["id", "permalink", "username", "followers_count", "full_profile"],
                  [(t, f"artist-{t}", f"Artist {t}", f, "f") for t, f in
                   zip(graph["targets"].tolist(), followers.tolist(), strict=True)])
        for name in ("soundcloud_interactions", "soundcloud_graph_visits", "soundcloud_users"):
            for statement in create_sql(TABLES[name], "postgresql")[1:]:  # the indexes
                cur.execute(statement)
        # Written last: a database without it is an interrupted load, rebuilt next time.
        cur.execute("CREATE TABLE bench_dataset (fingerprint TEXT, interactions BIGINT)")
        cur.execute("INSERT INTO bench_dataset VALUES (%s, %s)", (scale.fingerprint, len(graph["source"])))
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE")
    conn.close()


def database_url(scale: Scale) -> str:
    return f"postgresql://postgres@127.0.0.1:5432/{scale.database}"


def kept_rows(scale: Scale) -> int | None:
    """Interaction rows of a complete kept database of this scale, else None."""
    conn = psycopg2.connect(PG_ADMIN)
    with conn, conn.cursor() as cur:
        cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (scale.database,))
        exists = cur.fetchone() is not None
    conn.close()
    if not exists:
        return None
    conn = psycopg2.connect(database_url(scale))
    try:
        with conn, conn.cursor() as cur:
            cur.execute("SELECT interactions FROM bench_dataset WHERE fingerprint = %s", (scale.fingerprint,))
            found = cur.fetchone()
    except psycopg2.errors.UndefinedTable:
        found = None
    finally:
        conn.close()
    return int(found[0]) if found else None


def prepare(scale: Scale, regenerate: bool) -> None:
    """The scale's database: reused when complete, else generated and loaded."""
    rows = None if regenerate else kept_rows(scale)
    if rows is not None:
        print(f"{scale.name}: reusing the generated database {scale.database} ({rows:,} interactions, kept from an "
              "earlier run; --regenerate rebuilds it)", flush=True)
        return
    admin(f"DROP DATABASE IF EXISTS {scale.database} WITH (FORCE)")
    admin(f"CREATE DATABASE {scale.database}")
    # Generated in another process: a child inherits its parent's peak RSS
    # figure, so this one stays small for the map's rusage to be its own.
    subprocess.run([sys.executable, __file__, "--load-into", scale.name], check=True)


def generate_and_load(scale: Scale) -> None:
    start = time.monotonic()
    graph = (generate_per_kind if scale.per_kind else generate_random_kinds)(scale)
    print(f"{scale.name}: generated {len(graph['source']):,} interactions: {scale.accounts:,} accounts x "
          f"{len(graph['targets']):,} targets, {scale.communities} communities ({time.monotonic() - start:.1f} s)",
          flush=True)
    start = time.monotonic()
    load(database_url(scale), scale, graph)
    print(f"{scale.name}: loaded into {scale.database} with COPY ({time.monotonic() - start:.1f} s); kept for "
          "the next run", flush=True)


@dataclass
class Run:
    scale: Scale
    method: str
    summary: dict[str, Any]
    wall: float
    rss_mb: float
    cpu: float
    out: Path


def run_map(scale: Scale, method: str, out: Path, map_args: list[str]) -> Run:
    cmd = [sys.executable, "-m", "soundscraping.community_map", "--database-url", database_url(scale),
           "--out", str(out), "--method", method, *map_args]
    print(f"\n== {scale.name} scale, {method}: {' '.join(cmd[1:])}", flush=True)
    start = time.monotonic()
    process = subprocess.Popen(cmd, cwd=REPO)
    _, status, rusage = os.wait4(process.pid, 0)
    wall = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"the map command failed with exit code {code}")
    summary = json.loads((out / "summary.json").read_text())
    return Run(scale, method, summary, wall, rusage.ru_maxrss / 1024, rusage.ru_utime + rusage.ru_stime, out)


def planted_accuracy(run: Run, out: Path) -> tuple[float, float]:
    """Map quality against the planted communities: the share of mapped
    accounts whose nearest neighbour on the 2-D map is in the same planted
    community, and the same share over the 10 nearest."""
    from sklearn.neighbors import NearestNeighbors

    scale = run.scale
    pop = Population(np.random.default_rng(scale.seed), scale.accounts, scale.targets, scale.communities)
    community = dict(zip(pop.account_ids.tolist(), pop.account_community.tolist(), strict=True))
    with (out / "coordinates.csv").open(encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    xy = np.array([[float(r["x"]), float(r["y"])] for r in rows])
    planted = np.array([community[int(r["account_id"])] for r in rows])
    _, nearest = NearestNeighbors(n_neighbors=11).fit(xy).kneighbors(xy)
    return (float(np.mean(planted[nearest[:, 1]] == planted)),
            float(np.mean(planted[nearest[:, 1:]] == planted[:, None])))


def report(run: Run) -> None:
    s = run.summary
    print(f"\n{run.scale.name} scale, {run.method}: {s['interactions']:,} interaction rows, "
          f"{s['visited']:,} visited accounts x {s['targets']:,} targets -> "
          f"{s['after_score']:,} with score >= {s['options']['min_score']:g} -> "
          f"{s['after_share']:,} mapped ({s['kept_targets']:,} targets)"
          + (f", {s['clusters']['k']} communities" if s.get("clusters") else ""))
    print(f"{'stage':<10}{'seconds':>9}{'peak RSS MB after':>19}")
    for stage, seconds in s["seconds"].items():
        if stage != "total":
            print(f"{stage:<10}{seconds:>9.1f}{s['peak_rss_mb'][stage]:>19,.0f}")
    print(f"{'imports+':<10}{run.wall - s['seconds']['total']:>9.1f}   (interpreter start, imports, connect)")
    print(f"{'command':<10}{run.wall:>9.1f}   wall time of the whole command")
    print(f"peak RSS of the map process: {run.rss_mb:,.0f} MB")
    print(f"CPU time of the map process: {run.cpu:,.1f} s (user + system, all threads)")
    one, ten = planted_accuracy(run, run.out)
    print(f"map quality: nearest neighbour in the same planted community for {one:.1%} of the accounts "
          f"({ten:.1%} of the 10 nearest)")
    limit = run.scale.max_rss_mb
    targets = {f"whole command < {run.scale.max_seconds:g} s": run.wall < run.scale.max_seconds,
               f"peak RSS < {limit / 1024:g} GB": run.rss_mb < limit}
    for name, ok in targets.items():
        print(f"  [{'ok' if ok else 'MISSED'}] {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--scales", default="study,author", help="comma list of: " + ", ".join(SCALES))
    parser.add_argument("--methods", default="tsne,umap", help="comma list of map --method values")
    parser.add_argument("--out", type=Path, default=REPO / "data" / "bench" / "map")
    parser.add_argument("--regenerate", action="store_true", help="rebuild the generated databases")
    parser.add_argument("--drop-db", action="store_true", help="drop the generated databases afterwards")
    parser.add_argument("--load-into", metavar="SCALE", help=argparse.SUPPRESS)  # internal: the loader process
    parser.add_argument("map_args", nargs="*", help="extra arguments for the map command (after --)")
    opts = parser.parse_args()
    if opts.load_into:
        generate_and_load(SCALES[opts.load_into])
        return
    unknown = [s for s in opts.scales.split(",") if s not in SCALES]
    if unknown:
        parser.error(f"unknown scale {', '.join(unknown)} (choose from {', '.join(SCALES)})")
    scales = [SCALES[s] for s in opts.scales.split(",")]
    methods = [m for m in opts.methods.split(",") if m]
    runs = []
    try:
        for scale in scales:
            prepare(scale, opts.regenerate)
            for method in methods:
                runs.append(run_map(scale, method, opts.out / f"{scale.name}-{method}", opts.map_args))
    finally:
        if opts.drop_db:
            for scale in scales:
                admin(f"DROP DATABASE IF EXISTS {scale.database} WITH (FORCE)")
                print(f"dropped {scale.database}")
    print("\n" + "=" * 72 + "\ncommunity map benchmark")
    for run in runs:
        report(run)


if __name__ == "__main__":
    main()
