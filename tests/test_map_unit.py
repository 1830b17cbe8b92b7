"""The community map's pieces in-process: the interaction matrix and its row
filters, PNG label placement, reading the graph from an SQLite file without
visits (the end-to-end runs, on SQLite and PostgreSQL, are test_map_e2e.py)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

from soundscraping.community_map import data, render
from soundscraping.storage import TABLES, Database
from tests.test_map_e2e import WHEN, row


def test_filters_keep_exactly_the_rows_they_should() -> None:
    # account 1: score 49 (dropped); 2: exactly 50 over 5 targets (kept); 3: 40 of 100 on one target
    # (kept, the boundary); 4: 41 of 100 (dropped); 5: 60 of 90 on itself (dropped); 6: nothing (dropped).
    sources, targets, kinds, counts = [], [], [], []

    def add(s: int, t: int, kind: int, n: int) -> None:
        for column, value in ((sources, s), (targets, t), (kinds, kind), (counts, n)):
            column.append(value)

    add(1, 10, 0, 49)
    for t in range(5):
        add(2, 10 + t, 0, 10)
    # 5: 30 likes + 10 reposts (x 3) of itself, 10 follows of someone else.
    for s, t, kind, n in [(3, 10, 0, 40), (3, 11, 0, 30), (3, 12, 0, 30), (4, 10, 0, 41), (4, 11, 0, 30),
                          (4, 12, 0, 29), (5, 5, 0, 30), (5, 5, 1, 10), (5, 20, 2, 10)]:
        add(s, t, kind, n)
    graph = data.build_matrix(*(np.array(a, dtype=np.int64) for a in (sources, targets, kinds, counts)),
                                       accounts=np.array([1, 2, 3, 4, 5, 6]))
    assert graph.matrix.shape == (6, 7) and graph.matrix[4, 0] == 60  # like + repost of the same target add up
    result = data.filter_rows(graph.matrix, graph.target_ids)
    assert graph.account_ids[result.kept].tolist() == [2, 3]
    assert (result.visited, result.after_score, result.after_share) == (6, 4, 2)
    assert np.allclose(np.asarray(result.normalised.sum(axis=1)).ravel(), 1.0)
    assert result.normalised.max() == pytest.approx(0.4)
    assert set(result.target_ids.tolist()) == {10, 11, 12, 13, 14}  # columns nobody kept uses are gone
    assert result.normalised.format == "csr"  # sparse all the way
    # Thresholds and weights are options.
    loose = data.filter_rows(graph.matrix, graph.target_ids, min_score=40, max_share=0.7)
    assert graph.account_ids[loose.kept].tolist() == [2, 3, 4, 5]
    heavy = data.build_matrix(*(np.array(a, dtype=np.int64) for a in (sources, targets, kinds, counts)),
                                       weights={"like": 2, "repost": 0, "follow": 0, "comment": 0})
    row_of, column_of = heavy.account_ids.tolist().index, heavy.target_ids.tolist().index
    assert heavy.matrix[row_of(1), column_of(10)] == 98 and heavy.matrix[row_of(5), column_of(5)] == 60


def test_png_labels_never_overlap_and_go_to_the_biggest_first() -> None:
    rng = np.random.default_rng(1)
    xy, priority = rng.random((500, 2)), rng.random(500)
    xy[0], xy[1] = (0, 0), (1, 1)  # the map's extent is exactly the unit square
    widths = np.full(500, 0.1)
    chosen = render.label_sample(xy, priority, widths, limit=40, height=0.03)
    assert chosen[0] == int(priority.argmax()) and 10 < len(chosen) <= 40
    for a in chosen:
        for b in chosen:
            if a < b:  # boxes [x, x + w] x [y - h, y + h]: disjoint on one axis
                assert abs(xy[a, 0] - xy[b, 0]) >= 0.1 - 1e-9 or abs(xy[a, 1] - xy[b, 1]) >= 0.03 - 1e-9


def test_rows_are_interaction_sources_when_visits_are_missing(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/no-visits.sqlite3"
    db = Database.from_url(url)
    db.connect()
    db.create_tables([TABLES["soundcloud_interactions"]])  # an older database: no visits table at all
    db.write({"soundcloud_interactions": [
        row("soundcloud_interactions", source_user_id=s, kind=k, target_user_id=t, object_id=o, created_at=WHEN)
        for s, k, t, o in [(3, "like", 9, 1), (3, "like", 9, 2), (1, "follow", 9, None), (2, "mystery", 9, 5)]]})
    graph = data.read_graph(db, out=io.StringIO())
    db.close()
    assert graph.account_ids.tolist() == [1, 2, 3]
    assert graph.rows_from == "distinct sources of soundcloud_interactions"
    assert graph.matrix.toarray().ravel().tolist() == [3.0, 0.0, 2.0]  # an unknown kind weighs nothing


def test_randomized_svd_matches_the_exact_svd_on_a_wide_sparse_matrix() -> None:
    # The solver used above ARPACK_MAX_NNZ (the author's scale), on a small wide sparse matrix like a
    # profile matrix: 300 accounts x 8,000 targets, 8 planted directions of distinct strengths + sparse noise.
    import scipy.sparse as sp

    from soundscraping.community_map import embed

    rng = np.random.default_rng(4)
    rows, cols, k = 300, 8_000, 8
    basis = sp.random(k, cols, density=0.05, random_state=5, data_rvs=rng.random)
    noise = sp.random(rows, cols, density=0.025, random_state=6, data_rvs=lambda n: 0.05 * rng.random(n))
    matrix = sp.csr_matrix(sp.csr_matrix(rng.standard_normal((rows, k)) * np.geomspace(10.0, 2.0, k)) @ basis
                           + noise)
    got = embed.randomized_svd_embedding(matrix, dims=k, seed=0)
    u, s, _ = np.linalg.svd(matrix.toarray(), full_matrices=False)
    assert got.shape == (rows, k)
    np.testing.assert_allclose(np.linalg.norm(got, axis=0), s[:k], rtol=1e-4)  # the singular values, descending
    for j in range(k):  # each component is the exact U * S column, up to its sign
        exact = u[:, j] * s[j]
        np.testing.assert_allclose(np.sign(got[:, j] @ exact) * got[:, j], exact, atol=1e-3 * s[j])
    np.testing.assert_array_equal(got, embed.randomized_svd_embedding(matrix, dims=k, seed=0))  # same seed, same result
