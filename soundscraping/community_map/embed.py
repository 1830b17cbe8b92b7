"""From the sparse profiles to 2-D: truncated SVD, then t-SNE or UMAP, and
the plain 2-component PCA for comparison.

Both 2-D methods follow one rule: a fixed seed gives the same map.  openTSNE
runs on one thread by default (``--jobs``: its result depends on the thread
count); UMAP with ``random_state`` set always runs single-threaded."""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np
import scipy.sparse as sp

from soundscraping.community_map import MapError

# --method value -> the name shown on the map.
METHODS = {"tsne": "t-SNE", "umap": "UMAP"}
UMAP_NEIGHBOURS = 15  # umap-learn's default: local structure, like t-SNE's perplexity 30
UMAP_MIN_DIST = 0.1


@dataclass
class Embedding:
    reduced: np.ndarray  # n x d truncated SVD
    xy: np.ndarray  # n x 2, t-SNE or UMAP
    pca: np.ndarray  # n x 2


def min_rows_for(perplexity: float) -> int:
    """t-SNE needs 3 x perplexity neighbours for every point."""
    return math.floor(3 * perplexity) + 1


# Above this many non-zeros the SVD switches from ARPACK to the randomized
# solver: on the author's 8,095 x 489,554 graph (11 M non-zeros) ARPACK needs
# thousands of matrix products to separate the flat tail of the spectrum
# (over 3 minutes); two power iterations give the same leading singular
# values to 8 digits in about 15 s.
ARPACK_MAX_NNZ = 5_000_000


def reduce_svd(matrix: sp.csr_matrix, dims: int = 50, seed: int = 0) -> np.ndarray:
    """Truncated SVD straight on the sparse matrix (no centring, no densifying).
    ARPACK up to ``ARPACK_MAX_NNZ`` non-zeros: exact top components, and 2-3x
    faster than the randomized solver on the study-sized matrix (its cost is
    in dense 121k x 60 QR steps); the randomized solver above."""
    from sklearn.decomposition import TruncatedSVD

    d = max(1, min(dims, matrix.shape[0] - 1, matrix.shape[1] - 1))
    if matrix.nnz <= ARPACK_MAX_NNZ:
        svd = TruncatedSVD(n_components=d, algorithm="arpack", random_state=seed)
    else:
        svd = TruncatedSVD(n_components=d, algorithm="randomized", n_iter=2, random_state=seed)
    return svd.fit_transform(matrix)


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


def umap_2d(reduced: np.ndarray, neighbours: int = UMAP_NEIGHBOURS, seed: int = 0,
            out: TextIO | None = None) -> np.ndarray:
    """UMAP (umap-learn) with the cosine metric, like the t-SNE; the seed
    makes it single-threaded and repeatable."""
    if len(reduced) <= neighbours:
        raise MapError(f"only {len(reduced)} accounts to map; UMAP with {neighbours} neighbours needs at least "
                       f"{neighbours + 1} (loosen --min-score/--max-share)")
    import umap
    from sklearn.neighbors import NearestNeighbors

    if out is not None:
        print(f"  UMAP: {neighbours} neighbours (exact, cosine), min_dist {UMAP_MIN_DIST:g}, single thread",
              file=out, flush=True)
    # Exact neighbours (brute force: 8,000 x 50 is instant) instead of
    # pynndescent's approximate ones: the same graph every run, and no
    # NN-descent code to JIT-compile in every process (~40 s).
    distances, indices = NearestNeighbors(n_neighbors=neighbours, metric="cosine", algorithm="brute") \
        .fit(reduced).kneighbors(reduced)
    # n_jobs=1 says what random_state implies anyway (and silences its warning).
    model = umap.UMAP(n_components=2, n_neighbors=neighbours, min_dist=UMAP_MIN_DIST, metric="cosine",
                      random_state=seed, n_jobs=1, precomputed_knn=(indices, distances, None))
    with warnings.catch_warnings():
        # "transform will be unavailable": the map never transforms new points.
        warnings.filterwarnings("ignore", message="precomputed_knn", category=UserWarning)
        return np.asarray(model.fit_transform(reduced), dtype=np.float64)


def to_2d(method: str, reduced: np.ndarray, perplexity: float = 30.0, seed: int = 0, n_jobs: int = 1,
          out: TextIO | None = None) -> np.ndarray:
    """The 2-D map by ``method`` (a key of ``METHODS``)."""
    if method == "umap":
        return umap_2d(reduced, seed=seed, out=out)
    return tsne_2d(reduced, perplexity, seed, n_jobs, out)


def embed(matrix: sp.csr_matrix, dims: int = 50, perplexity: float = 30.0, seed: int = 0,
          n_jobs: int = 1, method: str = "tsne") -> Embedding:
    """SVD -> t-SNE or UMAP, and the 2-component PCA (the pure core of the map)."""
    reduced = reduce_svd(matrix, dims, seed)
    return Embedding(reduced=reduced, xy=to_2d(method, reduced, perplexity, seed, n_jobs), pca=pca_2d(matrix, seed))
