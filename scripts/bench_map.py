"""``make bench-map``: the community map at the scale of the original study.

Generates (numpy, fixed seed) an interaction graph of 2,250 visited accounts x
121,827 targets with ~2,000 interactions per account (~4.5 M rows) in planted
communities, with a few accounts below the score threshold and a few dominated
by themselves, loads it into a fresh PostgreSQL database with binary COPY, runs
``python -m soundscraping.map`` in a subprocess and prints the wall time of
every stage, the whole command's wall time and the map process's peak RSS
(``os.wait4`` rusage).  The database is dropped afterwards.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import struct
import subprocess
import sys
import time
import uuid
from pathlib import Path

import numpy as np
import psycopg2

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from soundscraping.storage import TABLES, Database  # noqa: E402
from tests.crawl import admin  # noqa: E402

KINDS = {"like": 0.70, "repost": 0.12, "follow": 0.10, "comment": 0.08}
PG_EPOCH_US = 946_684_800_000_000  # 2000-01-01 in Unix microseconds: binary timestamptz counts from there


def generate(accounts: int, targets: int, per_account: int, communities: int, seed: int) -> dict[str, np.ndarray]:
    """Interaction columns (source, kind code, target, object id or -1, time)."""
    rng = np.random.default_rng(seed)
    target_ids = np.sort(rng.choice(np.arange(10_000_000, 10_000_000 + targets * 20), targets, replace=False))
    account_ids = target_ids[rng.choice(targets, accounts, replace=False)]  # visited accounts are artists too
    target_community = rng.integers(communities, size=targets)
    popularity = 1 / rng.permutation(np.arange(1, targets + 1)) ** 0.9  # Zipf-like stars and a long tail
    by_community = [np.flatnonzero(target_community == c) for c in range(communities)]
    # Cumulative distributions, sampled with searchsorted (rng.choice(p=...) would rebuild them per call).
    community_cdf = [np.cumsum(popularity[idx]) / popularity[idx].sum() for idx in by_community]
    global_cdf = np.cumsum(popularity) / popularity.sum()
    account_community = rng.integers(communities, size=accounts)
    # 6% extra: quiet accounts and duplicate follows (dropped below) take about that many.
    mean = per_account * 1.06
    sizes = np.clip(rng.normal(mean, mean / 5, accounts), mean / 10, None).astype(np.int64)
    quiet = rng.random(accounts) < 0.03  # too little activity: below the score threshold
    sizes[quiet] = rng.integers(10, 40, int(quiet.sum()))
    dominated = rng.random(accounts) < 0.03  # mostly interacting with themselves
    sources, tgts = [], []
    for i in range(accounts):
        n = int(sizes[i])
        inside = rng.random(n) < 0.7
        picks = np.empty(n, dtype=np.int64)
        c = account_community[i]
        picks[inside] = by_community[c][np.searchsorted(community_cdf[c], rng.random(int(inside.sum())))
                                        .clip(max=len(by_community[c]) - 1)]
        picks[~inside] = np.searchsorted(global_cdf, rng.random(int((~inside).sum()))).clip(max=targets - 1)
        chosen = target_ids[picks]
        if dominated[i]:
            chosen[: n // 2] = account_ids[i]
        sources.append(np.full(n, account_ids[i], dtype=np.int64))
        tgts.append(chosen)
    source, target = np.concatenate(sources), np.concatenate(tgts)
    kind = rng.choice(len(KINDS), len(source), p=list(KINDS.values())).astype(np.int8)
    obj = np.arange(len(source), dtype=np.int64) + 500_000_000  # one distinct track or playlist per row
    follow = kind == list(KINDS).index("follow")
    obj[follow] = -1
    # A follow has no object: one per (source, target), like the table's unique key.
    keep = np.ones(len(source), dtype=bool)
    pair = source[follow] * (1 << 24) + np.searchsorted(target_ids, target[follow])
    _, first = np.unique(pair, return_index=True)
    keep[np.flatnonzero(follow)] = False
    keep[np.flatnonzero(follow)[first]] = True
    when = rng.integers(1_600_000_000_000_000, 1_750_000_000_000_000, len(source)) - PG_EPOCH_US  # 2020-2025
    return {"source": source[keep], "kind": kind[keep], "target": target[keep], "object": obj[keep],
            "when": when[keep], "accounts": account_ids, "targets": target_ids}


def copy_binary(cur: psycopg2.extensions.cursor, kind: str, cols: dict[str, np.ndarray]) -> None:
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


def load(database_url: str, graph: dict[str, np.ndarray]) -> None:
    db = Database.from_url(database_url)
    db.connect()
    db.ensure_schema()
    conn = psycopg2.connect(database_url)
    with conn, conn.cursor() as cur:
        # Indexes are rebuilt once after the load rather than maintained row by row.
        cur.execute("DROP INDEX soundcloud_interactions_key, soundcloud_interactions_target_user_id_idx")
        for code, kind in enumerate(KINDS):
            mask = graph["kind"] == code
            copy_binary(cur, kind, {k: graph[k][mask] for k in ("source", "target", "object", "when")})
    conn.close()
    db.create_tables(TABLES.values())  # recreates the indexes
    visits = TABLES["soundcloud_graph_visits"].column_names
    db.write({"soundcloud_graph_visits": [
        tuple({"user_id": int(u), "position": i}.get(c) for c in visits) for i, u in enumerate(graph["accounts"])]})
    rng = np.random.default_rng(1)
    followers = rng.lognormal(6, 2.5, len(graph["targets"])).astype(np.int64)
    users = TABLES["soundcloud_users"].column_names
    rows = [tuple({"id": int(t), "permalink": f"artist-{t}", "username": f"Artist {t}", "followers_count": int(f),
                   "full_profile": False}.get(c) for c in users)
            for t, f in zip(graph["targets"], followers, strict=True)]
    for start in range(0, len(rows), 20_000):
        db.write({"soundcloud_users": rows[start:start + 20_000]})
    db.close()
    conn = psycopg2.connect(database_url)
    conn.autocommit = True
    with conn.cursor() as cur:
        cur.execute("VACUUM ANALYZE soundcloud_interactions")
    conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--accounts", type=int, default=2250)
    parser.add_argument("--targets", type=int, default=121_827)
    parser.add_argument("--per-account", type=int, default=2000)
    parser.add_argument("--communities", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=REPO / "data" / "bench" / "map")
    parser.add_argument("--keep-db", action="store_true", help="keep the generated database (its URL is printed)")
    parser.add_argument("--load-into", metavar="URL", help=argparse.SUPPRESS)  # internal: the loader process
    parser.add_argument("map_args", nargs="*", help="extra arguments for the map command (after --)")
    opts = parser.parse_args()

    if opts.load_into:
        start = time.monotonic()
        graph = generate(opts.accounts, opts.targets, opts.per_account, opts.communities, opts.seed)
        print(f"generated {len(graph['source']):,} interactions: {opts.accounts:,} accounts x "
              f"{len(graph['targets']):,} targets, {opts.communities} communities "
              f"({time.monotonic() - start:.1f} s)", flush=True)
        start = time.monotonic()
        load(opts.load_into, graph)
        print(f"loaded into PostgreSQL with COPY ({time.monotonic() - start:.1f} s)", flush=True)
        return

    dbname = f"soundscraping_bench_map_{uuid.uuid4().hex[:8]}"
    admin(f"CREATE DATABASE {dbname}")
    database_url = f"postgresql://postgres@127.0.0.1:5432/{dbname}"
    try:
        # Generated in another process: a child inherits its parent's peak RSS
        # figure, so this one stays small for the map's rusage to be its own.
        subprocess.run([sys.executable, __file__, "--load-into", database_url, "--accounts", str(opts.accounts),
                        "--targets", str(opts.targets), "--per-account", str(opts.per_account),
                        "--communities", str(opts.communities), "--seed", str(opts.seed)], check=True)
        cmd = [sys.executable, "-m", "soundscraping.map", "--database-url", database_url, "--out", str(opts.out),
               *opts.map_args]
        start = time.monotonic()
        process = subprocess.Popen(cmd, cwd=REPO)
        _, status, rusage = os.wait4(process.pid, 0)
        wall = time.monotonic() - start
    finally:
        if opts.keep_db:
            print(f"kept {database_url}")
        else:
            admin(f"DROP DATABASE IF EXISTS {dbname} WITH (FORCE)")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"the map command failed with exit code {code}")
    summary = json.loads((opts.out / "summary.json").read_text())
    rss_mb = rusage.ru_maxrss / 1024
    print(f"\ncommunity map benchmark: {summary['interactions']:,} interaction rows, "
          f"{summary['visited']:,} visited accounts -> "
          f"{summary['after_score']:,} with score >= {summary['options']['min_score']:g} -> "
          f"{summary['after_share']:,} mapped ({summary['kept_targets']:,} targets)")
    print(f"{'stage':<10}{'seconds':>9}{'peak RSS MB after':>19}")
    for stage, seconds in summary["seconds"].items():
        if stage != "total":
            print(f"{stage:<10}{seconds:>9.1f}{summary['peak_rss_mb'][stage]:>19,.0f}")
    print(f"{'imports+':<10}{wall - summary['seconds']['total']:>9.1f}   (interpreter start, imports, connect)")
    print(f"{'command':<10}{wall:>9.1f}   wall time of the whole command")
    print(f"peak RSS of the map process: {rss_mb:,.0f} MB")
    targets = {"whole command < 90 s": wall < 90, "peak RSS < 1.5 GB": rss_mb < 1536}
    for name, ok in targets.items():
        print(f"  [{'ok' if ok else 'MISSED'}] {name}")


if __name__ == "__main__":
    main()
