"""Communities: k-means on the SVD embedding, k chosen by silhouette."""

from __future__ import annotations

import numpy as np

from soundscraping.community_map import MapError


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
