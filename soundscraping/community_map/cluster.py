"""Communities: k-means on the SVD embedding, k chosen by silhouette, and
each community named by its most central accounts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp

from soundscraping.community_map import MapError

# k is chosen on at most this many points (the silhouette score's sample):
# above it, each k's k-means runs once on the sample and only the winner runs
# on everyone, with all its starts (29 k x 4 starts on 8,000 accounts took
# ~30 s on the 2-core machine).
SAMPLE = 3000
STARTS = 4  # k-means++ initialisations per fit (n_init)


def cluster(reduced: np.ndarray, max_clusters: int = 30, seed: int = 0) -> tuple[np.ndarray, int, float]:
    """k-means on the L2-normalised embedding, k in 2..max_clusters chosen by
    silhouette score; returns (labels, k, silhouette)."""
    from sklearn.cluster import KMeans
    from sklearn.metrics import pairwise_distances, silhouette_score
    from sklearn.preprocessing import normalize

    x = normalize(reduced)
    sample = x
    if len(x) > SAMPLE:
        sample = x[np.sort(np.random.default_rng(seed).choice(len(x), SAMPLE, replace=False))]
    # The sample's distances once, for every k's silhouette (not 29 times).
    distances = pairwise_distances(sample)
    best: tuple[float, int, np.ndarray] | None = None
    for k in range(2, min(max_clusters, len(x) - 1) + 1):
        starts = STARTS if sample is x else 1
        labels = KMeans(n_clusters=k, n_init=starts, random_state=seed).fit_predict(sample)
        score = float(silhouette_score(distances, labels, metric="precomputed"))
        if best is None or score > best[0]:
            best = (score, k, labels)
    if best is None:
        raise MapError(f"too few accounts ({len(x)}) to cluster")
    score, k, labels = best
    if sample is not x:
        labels = KMeans(n_clusters=k, n_init=STARTS, random_state=seed).fit_predict(x)
    # Number clusters by size (0 = largest) so colours are stable and meaningful.
    order = np.argsort(-np.bincount(labels, minlength=k), kind="stable")
    rank = np.empty(k, dtype=np.int64)
    rank[order] = np.arange(k)
    return rank[labels], k, score


@dataclass
class Central:
    """An account at the heart of a community."""

    account_id: int
    score: float  # interaction score it receives from the community's members
    share: float  # the part of all the score it receives on the map that comes from them

    @property
    def weight(self) -> float:
        """What ranks it: received score x share (an account everyone
        interacts with, in every community, names none of them)."""
        return self.score * self.share


@dataclass
class Community:
    id: int
    size: int
    central: list[Central]


def communities(scores: sp.csr_matrix, target_ids: np.ndarray, labels: np.ndarray, top: int = 3) -> list[Community]:
    """Every community with its ``top`` central accounts.  ``scores``: the
    mapped accounts' rows of weighted interaction scores (columns
    ``target_ids``); ``labels``: their community, 0..k-1."""
    n, k = len(labels), int(labels.max()) + 1 if len(labels) else 0
    membership = sp.csr_matrix((np.ones(n), (labels, np.arange(n))), shape=(k, n))
    inside = sp.csr_matrix(membership @ scores)  # k x targets: score received from each community
    received = np.asarray(inside.sum(axis=0)).ravel()  # ... and from everyone on the map
    sizes = np.bincount(labels, minlength=k)
    found = []
    for c in range(k):
        start, end = inside.indptr[c], inside.indptr[c + 1]
        cols, score = inside.indices[start:end], inside.data[start:end]
        share = score / received[cols]
        order = np.lexsort((target_ids[cols], -(score * share)))[:top]  # ties: lower id first
        found.append(Community(c, int(sizes[c]), [Central(int(target_ids[cols[j]]), float(score[j]), float(share[j]))
                                                  for j in order]))
    return found
