"""From the sparse profiles to 2-D: truncated SVD, then t-SNE, and the plain
2-component PCA for comparison."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, TextIO

import numpy as np
import scipy.sparse as sp

from soundscraping.community_map import MapError


@dataclass
class Embedding:
    reduced: np.ndarray  # n x d truncated SVD
    tsne: np.ndarray  # n x 2
    pca: np.ndarray  # n x 2


def min_rows_for(perplexity: float) -> int:
    """t-SNE needs 3 x perplexity neighbours for every point."""
    return math.floor(3 * perplexity) + 1


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
