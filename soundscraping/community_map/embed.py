"""From the sparse profiles to 2-D: truncated SVD, then t-SNE or UMAP, and
the plain 2-component PCA for comparison.

Both 2-D methods follow one rule: a fixed seed gives the same map.  openTSNE
runs on ``TSNE_JOBS`` (2) threads unless ``--jobs`` says otherwise: its
result depends on the thread count (OpenMP reductions), so the default is a
fixed number, not the machine's core count; UMAP with ``random_state`` set
always runs single-threaded."""

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
TSNE_JOBS = 2  # the default --jobs: both cores of the 2-core machine; a fixed number keeps the map the same anywhere
# openTSNE's FFT-interpolated gradient (Linderman et al. 2019) from
# FFT_MIN_POINTS accounts up, with two intervals per interpolation box: at the
# author's scale (8,017 accounts) 36 CPU-seconds against 130 for Barnes-Hut
# (openTSNE's own choice below 10,000 points) and 65 for FFT with one interval
# per box, with the same trustworthiness and planted-community neighbour
# accuracy (README).  The FFT's cost follows the embedding's extent, not the
# number of points, so small maps stay on Barnes-Hut (the 242-account test
# graph: about 1 CPU-second with Barnes-Hut, 15 with FFT).
FFT_MIN_POINTS = 5000
TSNE_INTS_IN_INTERVAL = 2


@dataclass
class Embedding:
    reduced: np.ndarray  # n x d truncated SVD
    xy: np.ndarray  # n x 2, t-SNE or UMAP
    pca: np.ndarray  # n x 2


def min_rows_for(perplexity: float) -> int:
    """t-SNE needs 3 x perplexity neighbours for every point."""
    return math.floor(3 * perplexity) + 1


# Above this many non-zeros the SVD switches from ARPACK to a randomized
# solver: on the author's 8,095 x 489,554 graph (11 M non-zeros) ARPACK needs
# thousands of matrix products to separate the flat tail of the spectrum
# (over 3 minutes).
ARPACK_MAX_NNZ = 5_000_000
POWER_ITERATIONS = 2  # products with M M^T before the basis is taken (the leading values to ~1e-5)
OVERSAMPLES = 10  # extra random directions (Halko et al.'s usual p)


def randomized_svd_embedding(matrix: sp.csr_matrix, dims: int, seed: int = 0,
                             power_iterations: int = POWER_ITERATIONS) -> np.ndarray:
    """``U * S`` of the top ``dims`` singular triplets of a wide sparse matrix
    (Halko, Martinsson & Tropp 2011, algorithm 4.3), done on the short side:
    the basis is ``QR((M M^T)^(q+1) Omega)`` with ``Omega`` accounts x (dims +
    oversamples), and ``Q^T M M^T Q`` (small, dense) is diagonalised.
    sklearn's ``TruncatedSVD(algorithm="randomized")`` transposes a wide
    matrix and so spends its time on QR and SVD of 489,554 x 60 dense
    matrices (13 s and 10 s of the 25 CPU-seconds at the author's scale);
    here the only large operands are the sparse products, in float32 with
    an explicit row-major transpose (scipy's CSC products are 2x slower)."""
    import scipy.linalg as la

    m32 = matrix.astype(np.float32)
    mt32 = m32.T.tocsr()
    rows = matrix.shape[0]
    size = min(dims + OVERSAMPLES, rows)
    y = np.random.default_rng(seed).standard_normal((rows, size), dtype=np.float32)
    for _ in range(power_iterations + 1):
        y, _ = la.qr(m32 @ (mt32 @ y), mode="economic", check_finite=False)  # QR keeps the directions apart
    q = np.asarray(y, dtype=np.float64)
    z = np.asarray(mt32 @ y, dtype=np.float64)  # M^T Q: targets x size
    values, vectors = np.linalg.eigh(z.T @ z)  # Q^T M M^T Q = W diag(s^2) W^T, ascending
    top = np.argsort(values)[::-1][:dims]
    singular = np.sqrt(np.clip(values[top], 0.0, None))
    u = q @ vectors[:, top]
    # Deterministic signs (as sklearn's svd_flip): the largest |entry| of each column positive.
    signs = np.sign(u[np.abs(u).argmax(axis=0), np.arange(u.shape[1])])
    signs[signs == 0] = 1.0
    return u * (signs * singular)


def reduce_svd(matrix: sp.csr_matrix, dims: int = 50, seed: int = 0) -> np.ndarray:
    """Truncated SVD straight on the sparse matrix (no centring, no densifying).
    ARPACK up to ``ARPACK_MAX_NNZ`` non-zeros: exact top components, fast on
    the study-sized matrix; the randomized solver above."""
    from sklearn.decomposition import TruncatedSVD

    d = max(1, min(dims, matrix.shape[0] - 1, matrix.shape[1] - 1))
    if matrix.nnz <= ARPACK_MAX_NNZ:
        return TruncatedSVD(n_components=d, algorithm="arpack", random_state=seed).fit_transform(matrix)
    return randomized_svd_embedding(matrix, d, seed)


def pca_2d(matrix: sp.csr_matrix, seed: int = 0) -> np.ndarray:
    """Plain 2-component PCA; ARPACK centres the sparse matrix implicitly."""
    from sklearn.decomposition import PCA

    if min(matrix.shape) <= 2:
        raise MapError(f"too small a matrix for PCA: {matrix.shape[0]} accounts x {matrix.shape[1]} targets")
    return PCA(n_components=2, svd_solver="arpack", random_state=seed).fit_transform(matrix)


def tsne_2d(reduced: np.ndarray, perplexity: float = 30.0, seed: int = 0, n_jobs: int = TSNE_JOBS,
            out: TextIO | None = None) -> np.ndarray:
    from openTSNE import TSNE
    from openTSNE.affinity import PerplexityBasedNN

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

    # The affinities on one thread, as before: openTSNE's neighbours (exact below 1,000 points,
    # else an Annoy index, which is only repeatable when built on one thread); only the gradient
    # runs on n_jobs threads.  (Exact neighbours at the author's scale gave a worse map:
    # planted-community neighbour accuracy 97.5% against 99.0%.)
    affinities = PerplexityBasedNN(reduced, perplexity=perplexity, metric="cosine", n_jobs=1, random_state=seed)
    tsne = TSNE(n_components=2, perplexity=perplexity, metric="cosine", n_jobs=n_jobs, random_state=seed,
                negative_gradient_method="fft" if len(reduced) >= FFT_MIN_POINTS else "bh",
                ints_in_interval=TSNE_INTS_IN_INTERVAL,
                callbacks=progress if out is not None else None, callbacks_every_iters=250)
    return np.asarray(tsne.fit(reduced, affinities=affinities), dtype=np.float64)


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


def to_2d(method: str, reduced: np.ndarray, perplexity: float = 30.0, seed: int = 0, n_jobs: int = TSNE_JOBS,
          out: TextIO | None = None) -> np.ndarray:
    """The 2-D map by ``method`` (a key of ``METHODS``)."""
    if method == "umap":
        return umap_2d(reduced, seed=seed, out=out)
    return tsne_2d(reduced, perplexity, seed, n_jobs, out)


def embed(matrix: sp.csr_matrix, dims: int = 50, perplexity: float = 30.0, seed: int = 0,
          n_jobs: int = TSNE_JOBS, method: str = "tsne") -> Embedding:
    """SVD -> t-SNE or UMAP, and the 2-component PCA (the pure core of the map)."""
    reduced = reduce_svd(matrix, dims, seed)
    return Embedding(reduced=reduced, xy=to_2d(method, reduced, perplexity, seed, n_jobs), pca=pca_2d(matrix, seed))
