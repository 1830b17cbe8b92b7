"""The interaction graph as a sparse matrix, its row filters, and the names
of the accounts on the map (everything the map reads from the database)."""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TextIO

import numpy as np
import scipy.sparse as sp

from soundscraping.community_map import MapError
from soundscraping.storage import KINDS, Database, graph_queries, mask_url


def default_weights() -> dict[str, float]:
    """The GRAPH_WEIGHTS setting: the crawl's frontier scores with it too."""
    return graph_queries.interaction_weights()


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
class Account:
    permalink: str | None = None
    username: str | None = None
    followers: int | None = None


def factorize(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_inverse=True)`` for int64 ids, about 3x
    faster on millions of them: one plain sort of (value, position) packed
    into one integer instead of an argsort, when both fit in 63 bits."""
    n = len(values)
    if n == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    low = int(values.min())
    position_bits = max(1, (n - 1).bit_length())
    if (int(values.max()) - low).bit_length() + position_bits > 63:
        unique, inverse = np.unique(values, return_inverse=True)
        return unique, inverse.ravel()
    packed = np.sort(((values - low) << position_bits) | np.arange(n, dtype=np.int64))
    ordered = (packed >> position_bits) + low
    first = np.empty(n, dtype=bool)
    first[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=first[1:])
    inverse = np.empty(n, dtype=np.int64)
    inverse[packed & ((1 << position_bits) - 1)] = np.cumsum(first) - 1
    return ordered[first], inverse


def build_matrix(sources: np.ndarray, targets: np.ndarray, kinds: np.ndarray, counts: np.ndarray,
                 weights: Mapping[str, float] | None = None, accounts: np.ndarray | None = None) -> Graph:
    """Sparse accounts x targets matrix from aggregated (source, target, kind
    code, count) arrays; kind codes index ``KINDS`` (anything else weighs 0).
    Rows are ``accounts`` (sorted; interactions of other sources are ignored)
    or the distinct sources.  ``weights`` default to GRAPH_WEIGHTS."""
    weights = default_weights() if weights is None else weights
    account_ids = np.unique(sources) if accounts is None else np.unique(np.asarray(accounts, dtype=np.int64))
    rows = np.searchsorted(account_ids, sources)
    known = rows < len(account_ids)
    known[known] = account_ids[rows[known]] == sources[known]
    weight = np.array([float(weights.get(k, 0.0)) for k in KINDS] + [0.0])
    codes = np.where((kinds >= 0) & (kinds < len(KINDS)), kinds, len(KINDS))
    score = weight[codes] * counts
    keep = known & (score != 0)
    target_ids, cols = factorize(targets[keep])
    matrix = sp.csr_matrix((score[keep], (rows[keep], cols.ravel())), shape=(len(account_ids), len(target_ids)))
    matrix.sum_duplicates()  # the kinds (and repeats) of one (account, target) pair add up
    return Graph(matrix=matrix, account_ids=account_ids, target_ids=target_ids,
                 interactions=int(counts.sum(dtype=np.int64)))


def _read_interactions(db: Database, only_visited: bool, out: TextIO) -> tuple[np.ndarray, ...]:
    """(sources, targets, kind codes, counts) of every interaction, as numpy
    arrays made block by block from the streamed typed columns."""
    columns: list[list[np.ndarray]] = [[], [], [], []]
    read = next_report = 0
    for block in graph_queries.interaction_blocks(db, only_visited):
        n = len(block.sources)
        counts = np.ones(n, dtype=np.int32) if block.counts is None else np.frombuffer(block.counts, np.int32)
        for column, values in zip(columns, (np.frombuffer(block.sources, np.int64),
                                            np.frombuffer(block.targets, np.int64),
                                            np.frombuffer(block.kinds, np.int16), counts), strict=True):
            column.append(values)
        read += int(counts.sum())
        if read >= next_report:
            print(f"  {read:,} interactions read", file=out, flush=True)
            next_report = read + 2_000_000
    types = (np.int64, np.int64, np.int16, np.int32)
    return tuple(np.concatenate(c) if c else np.zeros(0, dtype=t) for c, t in zip(columns, types, strict=True))


def read_graph(db: Database, weights: Mapping[str, float] | None = None, out: TextIO | None = None) -> Graph:
    """The interaction matrix of the database (see the package docstring)."""
    out = out or sys.stdout
    tables = db.table_names()
    if "soundcloud_interactions" not in tables:
        raise MapError(f"table soundcloud_interactions does not exist in {mask_url(db.url)} "
                       "(run the soundcloud_graph crawl first, or check --database-url)")
    visits: list[tuple[int, int | None]] = []
    if "soundcloud_graph_visits" in tables:
        visits = graph_queries.visited_accounts(db)
    accounts = np.array([v[0] for v in visits], dtype=np.int64) if visits else None
    rows_from = "soundcloud_graph_visits" if visits else "distinct sources of soundcloud_interactions"
    print(f"  rows: {rows_from}" + (f" ({len(visits):,} accounts)" if visits else ""), file=out, flush=True)

    sources, targets, kinds, counts = _read_interactions(db, bool(visits), out)
    unknown = int(counts[kinds < 0].sum())
    if unknown:
        print(f"  {unknown:,} interactions of an unknown kind ignored", file=out, flush=True)
    graph = build_matrix(sources, targets, kinds, counts, weights, accounts)
    del sources, targets, kinds, counts
    graph.rows_from = rows_from
    graph.followers = {int(uid): int(f) for uid, f in visits if f is not None}
    if graph.interactions == 0:
        raise MapError(f"the interaction graph is empty: soundcloud_interactions in {mask_url(db.url)} has no rows"
                       + (" from the visited accounts" if visits else "") + " (run the soundcloud_graph crawl first)")
    print(f"  {graph.interactions:,} interactions: {graph.matrix.shape[0]:,} accounts x "
          f"{graph.matrix.shape[1]:,} targets, {graph.matrix.nnz:,} non-zero", file=out, flush=True)
    return graph


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


def top_partners(normalised: sp.csr_matrix, target_ids: np.ndarray, k: int = 5) -> list[list[tuple[int, float]]]:
    """The ``k`` targets with the largest shares of every row."""
    result = []
    for i in range(normalised.shape[0]):
        start, end = normalised.indptr[i], normalised.indptr[i + 1]
        data, cols = normalised.data[start:end], normalised.indices[start:end]
        order = np.lexsort((target_ids[cols], -data))[:k]  # ties: lower id first (deterministic)
        result.append([(int(target_ids[cols[j]]), float(data[j])) for j in order])
    return result


def load_accounts(db: Database, ids: Sequence[int]) -> dict[int, Account]:
    """permalink, username and followers of ``ids`` from soundcloud_users
    (absent users are simply missing: a left join)."""
    return {int(uid): Account(permalink, username, followers)
            for uid, permalink, username, followers in graph_queries.user_names(db, ids)}
