"""Community map of the SoundCloud interaction graph: ``soundscraping map``.

Every visited account is described by whom it interacts with (a sparse
accounts x targets matrix of weighted interaction counts); accounts that
interact with the same people end up close together on a 2-D map.

Pipeline (each step is a small function the tests call directly):

1. ``read_graph`` -- ``soundcloud_interactions`` aggregated in SQL
   (``GROUP BY source, target, kind``), streamed in chunks (a server-side
   cursor on PostgreSQL) into numpy arrays, then ``build_matrix``: a
   ``scipy.sparse`` CSR matrix, never dense.  Score of a pair = likes x 1 +
   (reposts + follows + comments) x 3 (``--*-weight``).  Rows are the accounts
   in ``soundcloud_graph_visits``, or the distinct sources of the interactions
   when that table is empty or missing.
2. ``filter_rows`` -- drop rows whose score sum < ``--min-score`` (50), divide
   each row by its sum, drop rows whose largest share > ``--max-share`` (0.4):
   accounts that mostly interact with one account, often themselves.
3. ``embed`` -- ``TruncatedSVD`` (ARPACK) to 50 dimensions on the sparse
   matrix, then openTSNE (cosine metric, ``--perplexity`` 30, fixed ``--seed``
   and one thread by default: the same data gives the same map).  The plain 2-component PCA (``PCA`` with the
   ARPACK solver, which centres sparse input implicitly) is kept for comparison.
4. ``cluster`` (``--clusters``) -- k-means on the L2-normalised 50-d SVD
   embedding (so distances follow the cosine geometry t-SNE used), for every k
   in 2..``--max-clusters``; the k with the best silhouette score (on at most
   3,000 points, fixed seed) wins.
5. ``write_csv`` / ``write_html`` / ``write_png`` -- ``coordinates.csv``,
   ``map.html`` (self-contained plotly: hover, click-to-profile, search, zoom,
   t-SNE/PCA toggle; no network), ``map.png`` (labelled sample), ``pca.png``
   and ``summary.json`` (counts, parameters, seconds per stage).

User mistakes (bad URL, unreachable database, missing tables, empty or too
small graph, unwritable ``--out``) end with one line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import html
import json
import math
import resource
import sqlite3
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

import numpy as np
import scipy.sparse as sp

from soundscraping.preflight import folder_write_problem
from soundscraping.storage import Database, StorageError, default_database_url, error_line, mask_url

KINDS = ("like", "repost", "follow", "comment")
DEFAULT_WEIGHTS = {"like": 1.0, "repost": 3.0, "follow": 3.0, "comment": 3.0}
DEFAULT_PROFILE_BASE = "https://soundcloud.com/"
# Rows fetched per round trip: big enough to keep the driver busy, small
# enough that only one chunk of Python tuples is ever alive.
CHUNK_ROWS = 100_000
# Above this many points the HTML uses WebGL (scattergl); SVG is sharper and
# needs no GPU below it.
WEBGL_THRESHOLD = 15_000
# Qualitative palette shared by map.html and map.png (matplotlib's tab20 then
# tab20b): 40 colours, more than the default --max-clusters.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
    "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7",
    "#dbdb8d", "#9edae5",
    "#393b79", "#5254a3", "#6b6ecf", "#9c9ede", "#637939", "#8ca252", "#b5cf6b", "#cedb9c", "#8c6d31",
    "#bd9e39", "#e7ba52", "#e7cb94", "#843c39", "#ad494a", "#d6616b", "#e7969c", "#7b4173", "#a55194",
    "#ce6dbd", "#de9ed6",
)
SINGLE_COLOUR = "#3b6fb6"


class MapError(Exception):
    """A problem the user can fix (reported as one line, exit code 2)."""


# --------------------------------------------------------------------------- data


@dataclass
class Graph:
    """Accounts x targets weighted interaction scores."""

    matrix: sp.csr_matrix
    account_ids: np.ndarray  # int64, one per row, ascending
    target_ids: np.ndarray  # int64, one per column, ascending
    interactions: int = 0  # interaction rows behind the matrix
    rows_from: str = ""  # where the row set came from
    followers: dict[int, int] = field(default_factory=dict)  # from soundcloud_graph_visits


@dataclass
class FilterResult:
    kept: np.ndarray  # row indices into the graph, ascending
    normalised: sp.csr_matrix  # kept rows, each summing to 1; empty columns dropped
    target_ids: np.ndarray  # column ids of ``normalised``
    totals: np.ndarray  # score sum of every kept row
    visited: int
    after_score: int
    after_share: int


@dataclass
class Embedding:
    reduced: np.ndarray  # n x d truncated SVD
    tsne: np.ndarray  # n x 2
    pca: np.ndarray  # n x 2


@dataclass
class Account:
    permalink: str | None = None
    username: str | None = None
    followers: int | None = None


@dataclass
class MapPoints:
    """Everything the writers need, one entry per kept account."""

    account_ids: np.ndarray
    tsne: np.ndarray
    pca: np.ndarray
    accounts: list[Account]
    partners: list[list[tuple[str, float]]]  # (display name, share of the row)
    clusters: np.ndarray | None = None
    profile_base: str = DEFAULT_PROFILE_BASE

    def name(self, i: int) -> str:
        a = self.accounts[i]
        return a.username or a.permalink or str(int(self.account_ids[i]))

    def url(self, i: int) -> str | None:
        permalink = self.accounts[i].permalink
        return self.profile_base + permalink if permalink else None


# --------------------------------------------------------------------------- reading


def table_exists(db: Database, name: str) -> bool:
    if db.dialect == "postgresql":
        return bool(db.query("SELECT to_regclass(%s) IS NOT NULL", (name,))[0][0])
    return bool(db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", (name,)))


def stream_query(db: Database, sql: str, params: tuple[Any, ...] = (),
                 chunk_rows: int = CHUNK_ROWS) -> Iterator[list[tuple[Any, ...]]]:
    """Rows in chunks, never the whole result at once: a server-side (named)
    cursor on PostgreSQL, an iterated cursor on SQLite."""
    if db.dialect == "postgresql":
        if db.conn is None or db.conn.closed:
            db.connect()
        with db.conn:  # one transaction: a named cursor lives inside it
            with db.conn.cursor() as cur:
                # Lets the GROUP BY hash the whole table instead of spilling to disk.
                cur.execute("SET LOCAL work_mem = '256MB'")
            with db.conn.cursor(name="soundscraping_map") as cur:
                cur.itersize = chunk_rows
                cur.execute(sql, params)
                while rows := cur.fetchmany(chunk_rows):
                    yield rows
    else:
        if db.conn is None:
            db.connect()
        cur = db.conn.execute(sql.replace("%s", "?"), params)
        try:
            while rows := cur.fetchmany(chunk_rows):
                yield rows
        finally:
            cur.close()


def build_matrix(sources: np.ndarray, targets: np.ndarray, kinds: np.ndarray, counts: np.ndarray,
                 weights: Mapping[str, float] = DEFAULT_WEIGHTS,
                 accounts: np.ndarray | None = None) -> Graph:
    """Sparse accounts x targets matrix from aggregated (source, target, kind
    code, count) arrays; kind codes index ``KINDS`` (anything else weighs 0).
    Rows are ``accounts`` (sorted; interactions of other sources are ignored)
    or the distinct sources."""
    account_ids = np.unique(sources) if accounts is None else np.unique(np.asarray(accounts, dtype=np.int64))
    rows = np.searchsorted(account_ids, sources)
    known = rows < len(account_ids)
    known[known] = account_ids[rows[known]] == sources[known]
    weight = np.array([float(weights.get(k, 0.0)) for k in KINDS] + [0.0])
    codes = np.where((kinds >= 0) & (kinds < len(KINDS)), kinds, len(KINDS))
    score = weight[codes] * counts
    keep = known & (score != 0)
    target_ids, cols = np.unique(targets[keep], return_inverse=True)
    matrix = sp.csr_matrix((score[keep], (rows[keep], cols.ravel())), shape=(len(account_ids), len(target_ids)))
    matrix.sum_duplicates()  # the kinds of one (account, target) pair add up
    return Graph(matrix=matrix, account_ids=account_ids, target_ids=target_ids, interactions=int(counts.sum()))


def _aggregate_sql(restrict_to_visits: bool) -> str:
    case = " ".join(f"WHEN '{k}' THEN {i}" for i, k in enumerate(KINDS))
    where = "source_user_id IS NOT NULL AND target_user_id IS NOT NULL"
    if restrict_to_visits:
        where += " AND source_user_id IN (SELECT user_id FROM soundcloud_graph_visits)"
    return (f"SELECT source_user_id, target_user_id, CASE kind {case} ELSE -1 END, COUNT(*) "
            f"FROM soundcloud_interactions WHERE {where} GROUP BY source_user_id, target_user_id, kind")


def _read_groups(db: Database, sql: str, out: TextIO, chunk_rows: int) -> np.ndarray:
    """The aggregated groups as one (n, 4) int64 array."""
    parts: list[np.ndarray] = []
    read = next_report = 0
    for chunk in stream_query(db, sql, chunk_rows=chunk_rows):
        # One chunk of tuples at a time becomes a compact int64 block.
        parts.append(np.array(chunk, dtype=np.int64).reshape(-1, 4))
        read += len(chunk)
        if read >= next_report:
            print(f"  {read:,} (account, target, kind) groups read", file=out, flush=True)
            next_report = read + 1_000_000
    return np.concatenate(parts) if parts else np.zeros((0, 4), dtype=np.int64)


def read_graph(db: Database, weights: Mapping[str, float] = DEFAULT_WEIGHTS,
               out: TextIO | None = None, chunk_rows: int = CHUNK_ROWS) -> Graph:
    """The interaction matrix of the database (see the module docstring)."""
    out = out or sys.stdout
    if not table_exists(db, "soundcloud_interactions"):
        raise MapError(f"table soundcloud_interactions does not exist in {mask_url(db.url)} "
                       "(run the soundcloud_graph crawl first, or check --database-url)")
    visits: list[tuple[Any, ...]] = []
    if table_exists(db, "soundcloud_graph_visits"):
        visits = db.query("SELECT user_id, followers_count FROM soundcloud_graph_visits WHERE user_id IS NOT NULL")
    accounts = np.array([v[0] for v in visits], dtype=np.int64) if visits else None
    rows_from = "soundcloud_graph_visits" if visits else "distinct sources of soundcloud_interactions"
    print(f"  rows: {rows_from}" + (f" ({len(visits):,} accounts)" if visits else ""), file=out, flush=True)

    block = _read_groups(db, _aggregate_sql(bool(visits)), out, chunk_rows)
    read = len(block)
    unknown = int((block[:, 2] < 0).sum())
    if unknown:
        print(f"  {unknown:,} groups with an unknown kind ignored", file=out, flush=True)
    graph = build_matrix(block[:, 0], block[:, 1], block[:, 2].astype(np.int8), block[:, 3].astype(np.float64),
                         weights, accounts)
    del block
    graph.rows_from = rows_from
    graph.followers = {int(uid): int(f) for uid, f in visits if f is not None}
    if graph.interactions == 0:
        raise MapError(f"the interaction graph is empty: soundcloud_interactions in {mask_url(db.url)} has no rows"
                       + (" from the visited accounts" if visits else "") + " (run the soundcloud_graph crawl first)")
    print(f"  {graph.interactions:,} interactions, {read:,} groups: {graph.matrix.shape[0]:,} accounts x "
          f"{graph.matrix.shape[1]:,} targets, {graph.matrix.nnz:,} non-zero", file=out, flush=True)
    return graph


# --------------------------------------------------------------------------- filtering


def filter_rows(matrix: sp.csr_matrix, target_ids: np.ndarray, min_score: float = 50.0,
                max_share: float = 0.4) -> FilterResult:
    """Rows with score sum >= ``min_score`` whose largest share of the sum is
    <= ``max_share``, each divided by its sum."""
    matrix = sp.csr_matrix(matrix)
    totals = np.asarray(matrix.sum(axis=1)).ravel()
    by_score = totals >= min_score
    largest = np.asarray(matrix.max(axis=1).todense()).ravel()
    # Division (not multiplication by 1/total) so a share of exactly 40/100
    # compares equal to 0.4.
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(totals > 0, largest / totals, np.inf)
    by_share = by_score & (share <= max_share)
    kept = np.flatnonzero(by_share)
    rows = matrix[kept]
    rows.data = rows.data / np.repeat(totals[kept], np.diff(rows.indptr))
    used = np.bincount(rows.indices, minlength=rows.shape[1]) > 0
    rows = sp.csr_matrix(rows[:, np.flatnonzero(used)])
    return FilterResult(kept=kept, normalised=rows, target_ids=np.asarray(target_ids)[used], totals=totals[kept],
                        visited=matrix.shape[0], after_score=int(by_score.sum()), after_share=len(kept))


def min_rows_for(perplexity: float) -> int:
    """t-SNE needs 3 x perplexity neighbours for every point."""
    return math.floor(3 * perplexity) + 1


# --------------------------------------------------------------------------- embedding


def reduce_svd(matrix: sp.csr_matrix, dims: int = 50, seed: int = 0) -> np.ndarray:
    """Truncated SVD straight on the sparse matrix (no centring, no densifying).
    ARPACK: exact top components, and 2-3x faster than the randomized solver
    on the study-sized matrix (its cost is in dense 121k x 60 QR steps)."""
    from sklearn.decomposition import TruncatedSVD

    d = max(1, min(dims, matrix.shape[0] - 1, matrix.shape[1] - 1))
    return TruncatedSVD(n_components=d, algorithm="arpack", random_state=seed).fit_transform(matrix)


def pca_2d(matrix: sp.csr_matrix, seed: int = 0) -> np.ndarray:
    """Plain 2-component PCA; ARPACK centres the sparse matrix implicitly."""
    from sklearn.decomposition import PCA

    if min(matrix.shape) <= 2:
        raise MapError(f"too small a matrix for PCA: {matrix.shape[0]} accounts x {matrix.shape[1]} targets")
    return PCA(n_components=2, svd_solver="arpack", random_state=seed).fit_transform(matrix)


def tsne_2d(reduced: np.ndarray, perplexity: float = 30.0, seed: int = 0, n_jobs: int = 1,
            out: TextIO | None = None) -> np.ndarray:
    from openTSNE import TSNE

    if len(reduced) < min_rows_for(perplexity):
        raise MapError(f"only {len(reduced)} accounts to map; t-SNE with perplexity {perplexity:g} needs at "
                       f"least {min_rows_for(perplexity)} (lower --perplexity or loosen --min-score/--max-share)")
    iterations = 250 + 500  # openTSNE's early exaggeration + main phase
    phase = {"offset": 0, "last": 0}

    def progress(iteration: int, error: float, embedding: Any) -> bool:
        if iteration <= phase["last"]:  # openTSNE counts each phase from zero
            phase["offset"] += phase["last"]
        phase["last"] = iteration
        print(f"  t-SNE iteration {phase['offset'] + iteration}/{iterations} (KL divergence {error:.3f})",
              file=out, flush=True)
        return False

    tsne = TSNE(n_components=2, perplexity=perplexity, metric="cosine", n_jobs=n_jobs, random_state=seed,
                callbacks=progress if out is not None else None, callbacks_every_iters=250)
    return np.asarray(tsne.fit(reduced), dtype=np.float64)


def embed(matrix: sp.csr_matrix, dims: int = 50, perplexity: float = 30.0, seed: int = 0,
          n_jobs: int = 1) -> Embedding:
    """SVD -> t-SNE, and the 2-component PCA (the pure core of the map)."""
    reduced = reduce_svd(matrix, dims, seed)
    return Embedding(reduced=reduced, tsne=tsne_2d(reduced, perplexity, seed, n_jobs), pca=pca_2d(matrix, seed))


def cluster(reduced: np.ndarray, max_clusters: int = 30, seed: int = 0) -> tuple[np.ndarray, int, float]:
    """k-means on the L2-normalised embedding, k in 2..max_clusters chosen by
    silhouette score; returns (labels, k, silhouette)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score
    from sklearn.preprocessing import normalize

    x = normalize(reduced)
    best: tuple[float, int, np.ndarray] | None = None
    for k in range(2, min(max_clusters, len(x) - 1) + 1):
        labels = KMeans(n_clusters=k, n_init=4, random_state=seed).fit_predict(x)
        score = float(silhouette_score(x, labels, sample_size=min(len(x), 3000), random_state=seed))
        if best is None or score > best[0]:
            best = (score, k, labels)
    if best is None:
        raise MapError(f"too few accounts ({len(x)}) to cluster")
    score, k, labels = best
    # Number clusters by size (0 = largest) so colours are stable and meaningful.
    order = np.argsort(-np.bincount(labels, minlength=k), kind="stable")
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    return rank[labels], k, score


# --------------------------------------------------------------------------- names


def load_accounts(db: Database, ids: Sequence[int]) -> dict[int, Account]:
    """permalink, username and followers of ``ids`` from soundcloud_users
    (absent users are simply missing: a left join)."""
    if not ids or not table_exists(db, "soundcloud_users"):
        return {}
    found: dict[int, Account] = {}
    unique = sorted({int(i) for i in ids})
    for start in range(0, len(unique), 500):  # stays under SQLite's parameter limit
        part = unique[start:start + 500]
        marks = ", ".join(["%s"] * len(part))
        for uid, permalink, username, followers in db.query(
                f"SELECT id, permalink, username, followers_count FROM soundcloud_users WHERE id IN ({marks})",
                tuple(part)):
            found[int(uid)] = Account(permalink, username, followers)
    return found


def top_partners(normalised: sp.csr_matrix, target_ids: np.ndarray, k: int = 5) -> list[list[tuple[int, float]]]:
    """The ``k`` targets with the largest shares of every row."""
    result = []
    for i in range(normalised.shape[0]):
        start, end = normalised.indptr[i], normalised.indptr[i + 1]
        data, cols = normalised.data[start:end], normalised.indices[start:end]
        order = np.lexsort((target_ids[cols], -data))[:k]  # ties: lower id first (deterministic)
        result.append([(int(target_ids[cols[j]]), float(data[j])) for j in order])
    return result


# --------------------------------------------------------------------------- writers


def write_csv(path: Path, points: MapPoints) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        header = ["account_id", "permalink", "x", "y", "pca_x", "pca_y", "followers", "username"]
        writer.writerow(header + (["cluster"] if points.clusters is not None else []))
        for i, account_id in enumerate(points.account_ids):
            a = points.accounts[i]
            row = [int(account_id), a.permalink or "", repr(float(points.tsne[i, 0])), repr(float(points.tsne[i, 1])),
                   repr(float(points.pca[i, 0])), repr(float(points.pca[i, 1])),
                   "" if a.followers is None else a.followers, a.username or ""]
            writer.writerow(row + ([int(points.clusters[i])] if points.clusters is not None else []))


def _hover(points: MapPoints, i: int) -> str:
    a = points.accounts[i]
    lines = [f"<b>{html.escape(points.name(i))}</b>"]
    if a.permalink:
        lines.append(html.escape(a.permalink))
    lines.append(f"followers: {a.followers:,}" if a.followers is not None else "followers: unknown")
    if points.clusters is not None:
        lines.append(f"cluster {int(points.clusters[i])}")
    if points.partners[i]:
        lines.append("top partners:")
        lines += [f"&nbsp;&nbsp;{html.escape(name)} {share:.0%}" for name, share in points.partners[i]]
    return "<br>".join(lines)


def _marker_sizes(points: MapPoints, low: float, per_decade: float) -> np.ndarray:
    followers = np.array([a.followers or 0 for a in points.accounts], dtype=np.float64)
    return low + per_decade * np.log10(1 + np.clip(followers, 0, None))


def _groups(points: MapPoints) -> list[tuple[str, np.ndarray, str]]:
    """(legend name, point indices, colour) per trace."""
    if points.clusters is None:
        return [("accounts", np.arange(len(points.account_ids)), SINGLE_COLOUR)]
    return [(f"cluster {c} ({int((points.clusters == c).sum())})", np.flatnonzero(points.clusters == c),
             PALETTE[c % len(PALETTE)]) for c in np.unique(points.clusters)]


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


_PAGE = """<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<style>
  html, body {{ height: 100%; margin: 0; font-family: system-ui, sans-serif; }}
  body {{ display: flex; flex-direction: column; }}
  header {{ display: flex; flex-wrap: wrap; gap: .6em; align-items: center; padding: .5em .8em;
           border-bottom: 1px solid #ddd; font-size: 14px; }}
  header h1 {{ font-size: 16px; margin: 0 1em 0 0; }}
  #search {{ width: 18em; padding: .25em .4em; }}
  #search-status {{ color: #b00; min-width: 8em; }}
  .hint {{ color: #777; }}
  #plot {{ flex: 1; min-height: 400px; }}
</style>
</head>
<body>
<header>
  <h1>{title}</h1>
  <input id="search" type="search" list="account-names" placeholder="Search an artist (name or permalink)"
         autocomplete="off" aria-label="Search an artist">
  <span id="search-status" role="status"></span>
  <button id="view-toggle" type="button">Show PCA</button>
  <span class="hint">{subtitle} &middot; scroll to zoom, drag to pan, click a point to open the profile</span>
</header>
<datalist id="account-names">{options}</datalist>
<script>
const ACCOUNTS = {accounts};
const TRACES = {traces};
window.initMap = function (gd) {{
  const HIGHLIGHT = gd.data.length - 1;
  const input = document.getElementById("search");
  const status = document.getElementById("search-status");
  const toggle = document.getElementById("view-toggle");
  let view = "t";
  let hits = [];
  function show() {{
    Plotly.restyle(gd, {{
      x: [hits.map(i => ACCOUNTS[i][view][0])], y: [hits.map(i => ACCOUNTS[i][view][1])],
      text: [hits.map(i => ACCOUNTS[i].name)], customdata: [hits.slice()],
    }}, [HIGHLIGHT]);
    Plotly.restyle(gd, {{"marker.opacity": hits.length ? 0.25 : 0.75}}, TRACES.map((_, t) => t));
  }}
  function search(query) {{
    const q = query.trim().toLowerCase();
    if (!q) {{ hits = []; status.textContent = ""; show(); return; }}
    const exact = [], partial = [];
    ACCOUNTS.forEach((a, i) => {{
      const name = a.name.toLowerCase(), permalink = (a.permalink || "").toLowerCase();
      if (name === q || permalink === q) exact.push(i);
      else if (name.includes(q) || permalink.includes(q)) partial.push(i);
    }});
    hits = (exact.length ? exact : partial).slice(0, 50);
    const total = exact.length || partial.length;
    status.textContent = total === 0 ? "no match" : total === 1 ? ACCOUNTS[hits[0]].name : total + " matches";
    show();
  }}
  input.addEventListener("input", () => search(input.value));
  toggle.addEventListener("click", () => {{
    view = view === "t" ? "p" : "t";
    toggle.textContent = view === "t" ? "Show PCA" : "Show t-SNE";
    Plotly.restyle(gd, {{
      x: TRACES.map(idx => idx.map(i => ACCOUNTS[i][view][0])),
      y: TRACES.map(idx => idx.map(i => ACCOUNTS[i][view][1])),
    }}, TRACES.map((_, t) => t));
    show();
    Plotly.relayout(gd, {{"xaxis.autorange": true, "yaxis.autorange": true,
                         "title.text": view === "t" ? {tsne_title} : {pca_title}}});
  }});
  gd.on("plotly_click", ev => {{
    const a = ev.points.length ? ACCOUNTS[ev.points[0].customdata] : null;
    if (a && a.url) window.open(a.url, "_blank", "noopener");
  }});
  gd.dataset.ready = "1";
}};
</script>
<div id="plot">{plot}</div>
</body>
</html>
"""


def write_html(path: Path, points: MapPoints, title: str = "SoundCloud community map", subtitle: str = "") -> None:
    """A self-contained page: plotly.js inlined, no request leaves the file."""
    import plotly.graph_objects as go
    import plotly.io as pio

    n = len(points.account_ids)
    scatter = go.Scattergl if n > WEBGL_THRESHOLD else go.Scatter
    sizes = _marker_sizes(points, 4.0, 1.5)
    fig = go.Figure()
    traces = []
    for name, idx, colour in _groups(points):
        traces.append([int(i) for i in idx])
        fig.add_trace(scatter(
            x=points.tsne[idx, 0], y=points.tsne[idx, 1], mode="markers", name=name,
            customdata=[int(i) for i in idx], text=[_hover(points, int(i)) for i in idx],
            hovertemplate="%{text}<extra></extra>",
            marker={"color": colour, "size": sizes[idx], "opacity": 0.75, "line": {"width": 0.5, "color": "white"}},
        ))
    fig.add_trace(scatter(  # the search highlight, filled in by the page's script
        x=[], y=[], mode="markers+text", name="search", showlegend=False, hoverinfo="skip",
        textposition="top center", textfont={"size": 14, "color": "#b00"},
        marker={"size": 18, "color": "rgba(0,0,0,0)", "line": {"width": 3, "color": "#d00"}},
    ))
    tsne_title = "t-SNE of the interaction profiles"
    pca_title = "PCA (2 components) of the interaction profiles"
    fig.update_layout(
        template="plotly_white", title={"text": tsne_title}, dragmode="pan", hovermode="closest",
        xaxis={"showticklabels": False, "zeroline": False, "title": None},
        yaxis={"showticklabels": False, "zeroline": False, "title": None, "scaleanchor": "x"},
        legend={"itemsizing": "constant"}, margin={"l": 10, "r": 10, "t": 40, "b": 10},
        showlegend=points.clusters is not None,
    )
    plot = pio.to_html(fig, full_html=False, include_plotlyjs=True, div_id="map", default_height="100%",
                       config={"scrollZoom": True, "displaylogo": False, "responsive": True},
                       post_script="window.initMap(document.getElementById('{plot_id}'));")
    accounts = [{"id": int(points.account_ids[i]), "name": points.name(i), "permalink": points.accounts[i].permalink,
                 "url": points.url(i), "t": [float(v) for v in points.tsne[i]], "p": [float(v) for v in points.pca[i]]}
                for i in range(n)]
    options = "".join(f'<option value="{html.escape(points.name(i))}">' for i in range(n))
    page = _PAGE.format(title=html.escape(title), subtitle=html.escape(subtitle), options=options,
                        accounts=_script_json(accounts), traces=_script_json(traces),
                        tsne_title=_script_json(tsne_title), pca_title=_script_json(pca_title), plot=plot)
    path.write_text(page, encoding="utf-8")


def label_sample(xy: np.ndarray, priority: np.ndarray, widths: np.ndarray, limit: int = 40,
                 height: float = 0.022) -> list[int]:
    """Up to ``limit`` points to label, highest ``priority`` first, skipping
    any whose label box (``widths`` and ``height`` as fractions of the map's
    extent, starting at the point) would overlap one already chosen."""
    if len(xy) == 0 or limit <= 0:
        return []
    extent = np.ptp(xy, axis=0)
    scaled = (xy - xy.min(axis=0)) / np.where(extent > 0, extent, 1)
    chosen: list[int] = []
    for i in np.argsort(-priority, kind="stable"):
        x, y = scaled[i]
        if all(x + widths[i] <= scaled[j, 0] or scaled[j, 0] + widths[j] <= x
               or abs(y - scaled[j, 1]) >= height for j in chosen):
            chosen.append(int(i))
            if len(chosen) >= limit:
                break
    return chosen


def write_png(path: Path, points: MapPoints, coords: np.ndarray, title: str, labels: int = 40,
              size_inches: float = 12.0, activity: np.ndarray | None = None) -> None:
    """A static picture with a readable, non-overlapping sample of labels."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.patheffects as effects
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(size_inches, size_inches), dpi=150)
    sizes = _marker_sizes(points, 4.0, 4.0) * size_inches / 12
    for name, idx, colour in _groups(points):
        ax.scatter(coords[idx, 0], coords[idx, 1], s=sizes[idx], c=colour, alpha=0.7, linewidths=0,
                   label=name if points.clusters is not None else None)
    if labels:
        followers = np.array([a.followers or 0 for a in points.accounts], dtype=np.float64)
        # Most-followed first; activity breaks ties (and stands in when followers are unknown).
        extra = activity if activity is not None else np.zeros(len(followers))
        priority = followers + extra / (extra.max() + 1 if len(extra) else 1)
        # About 0.6 em per character at 8 pt on the figure's width, plus the offset.
        widths = np.array([0.012 + 0.6 * 8 / 72 * len(points.name(i)) / size_inches for i in range(len(coords))])
        for i in label_sample(coords, priority, widths, labels):
            ax.annotate(points.name(i), coords[i], xytext=(3, 3), textcoords="offset points", fontsize=8,
                        path_effects=[effects.withStroke(linewidth=2.5, foreground="white")])
    if points.clusters is not None:
        ax.legend(loc="best", fontsize=8, markerscale=2, frameon=True)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal", adjustable="datalim")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def map_points(db: Database, graph: Graph, kept: FilterResult, tsne: np.ndarray, pca: np.ndarray,
               clusters: np.ndarray | None = None, profile_base: str = DEFAULT_PROFILE_BASE) -> MapPoints:
    """Coordinates plus names, followers and top partners of the kept accounts."""
    account_ids = graph.account_ids[kept.kept]
    partners = top_partners(kept.normalised, kept.target_ids)
    known = load_accounts(db, [*account_ids.tolist(), *(t for row in partners for t, _ in row)])
    accounts = []
    for uid in account_ids.tolist():
        a = known.get(uid) or Account()
        if a.followers is None and uid in graph.followers:  # the graph crawl noted it when visiting
            a = Account(a.permalink, a.username, graph.followers[uid])
        accounts.append(a)

    def partner_name(uid: int, owner: int) -> str:
        if uid == owner:
            return "(self)"
        a = known.get(uid)
        return (a.username or a.permalink or str(uid)) if a else str(uid)

    return MapPoints(
        account_ids=account_ids, tsne=tsne, pca=pca, accounts=accounts,
        partners=[[(partner_name(t, int(account_ids[i])), share) for t, share in row]
                  for i, row in enumerate(partners)],
        clusters=clusters, profile_base=profile_base,
    )


# --------------------------------------------------------------------------- command


@dataclass
class MapOptions:
    database_url: str
    out: Path
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    min_score: float = 50.0
    max_share: float = 0.4
    dims: int = 50
    perplexity: float = 30.0
    seed: int = 0
    jobs: int = 1
    clusters: bool = False
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
            if kept.after_share < min_rows_for(opts.perplexity):
                raise MapError(f"only {kept.after_share} accounts left after filtering; t-SNE with perplexity "
                               f"{opts.perplexity:g} needs at least {min_rows_for(opts.perplexity)} (lower "
                               "--perplexity or loosen --min-score/--max-share)")
        graph.matrix = sp.csr_matrix((0, 0))  # frees the unfiltered matrix before the SVD

        with stages.stage("svd", f"truncated SVD to {opts.dims} dimensions"):
            reduced = reduce_svd(kept.normalised, opts.dims, opts.seed)
            print(f"  {reduced.shape[1]} components", file=out)
        with stages.stage("pca", "2-component PCA (for comparison)"):
            pca = pca_2d(kept.normalised, opts.seed)
        with stages.stage("tsne", f"t-SNE to 2-D (perplexity {opts.perplexity:g}, seed {opts.seed})"):
            tsne = tsne_2d(reduced, opts.perplexity, opts.seed, opts.jobs, out)
        labels = None
        cluster_info: dict[str, Any] = {}
        if opts.clusters:
            with stages.stage("clusters", f"k-means clusters (k = 2..{opts.max_clusters} by silhouette)"):
                labels, k, silhouette = cluster(reduced, opts.max_clusters, opts.seed)
                cluster_info = {"k": k, "silhouette": round(silhouette, 4),
                                "sizes": np.bincount(labels).tolist()}
                print(f"  k = {k} (silhouette {silhouette:.3f}), sizes {cluster_info['sizes']}", file=out)
                if k == opts.max_clusters:
                    print("  k is the largest tried: --max-clusters higher may fit better", file=out)

        with stages.stage("write", f"writing map.html, map.png, pca.png, coordinates.csv to {opts.out}"):
            points = map_points(db, graph, kept, tsne, pca, labels, opts.profile_base)
            subtitle = f"{len(points.account_ids):,} accounts, {kept.normalised.shape[1]:,} interaction targets"
            try:
                write_csv(opts.out / "coordinates.csv", points)
                write_html(opts.out / "map.html", points, subtitle=subtitle)
                write_png(opts.out / "map.png", points, tsne, f"SoundCloud community map (t-SNE) - {subtitle}",
                          opts.labels, activity=kept.totals)
                write_png(opts.out / "pca.png", points, pca, "2-component PCA (for comparison)", labels=0,
                          size_inches=7.0)
            except OSError as exc:
                raise MapError(f"cannot write to --out {opts.out}: {exc.strerror or exc}") from exc
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
                    "dims": opts.dims, "svd_components": int(reduced.shape[1]), "perplexity": opts.perplexity,
                    "seed": opts.seed, "clusters": opts.clusters, "max_clusters": opts.max_clusters},
        "clusters": cluster_info,
        "seconds": {**stages.seconds, "total": round(time.monotonic() - started, 3)},
        "peak_rss_mb": stages.peak_rss_mb,
        "files": ["map.html", "map.png", "pca.png", "coordinates.csv", "summary.json"],
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
    for kind in KINDS:
        parser.add_argument(f"--{kind}-weight", type=float, default=DEFAULT_WEIGHTS[kind], metavar="W",
                            help=f"score of one {kind} (default {DEFAULT_WEIGHTS[kind]:g})")
    parser.add_argument("--min-score", type=float, default=50.0,
                        help="drop accounts whose score sum is below this (default 50)")
    parser.add_argument("--max-share", type=float, default=0.4,
                        help="drop accounts whose largest target takes more than this share of their "
                             "score (default 0.4)")
    parser.add_argument("--dims", type=int, default=50, help="truncated-SVD dimensions before t-SNE (default 50)")
    parser.add_argument("--perplexity", type=float, default=30.0, help="t-SNE perplexity (default 30)")
    parser.add_argument("--seed", type=int, default=0, help="random seed: same data + seed = same map (default 0)")
    parser.add_argument("--jobs", type=int, default=1,
                        help="t-SNE threads (default 1; -1 = all cores).  The map depends on this number too: "
                             "one thread keeps it the same on every machine, and at ~2,000 accounts costs "
                             "only seconds")
    parser.add_argument("--clusters", action="store_true",
                        help="colour clusters: k-means on the L2-normalised SVD embedding, k = 2..--max-clusters "
                             "with the best silhouette score; adds a cluster column to coordinates.csv")
    parser.add_argument("--max-clusters", type=int, default=30, help="largest k tried with --clusters (default 30)")
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
                               "(map.html, map.png, pca.png, coordinates.csv, summary.json in --out).")
    add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    return run_cli(build_parser().parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
