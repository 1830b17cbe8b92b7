"""Community map of the SoundCloud interaction graph: ``soundscraping map``.

Every visited account is described by whom it interacts with (a sparse
accounts x targets matrix of weighted interaction counts); accounts that
interact with the same people end up close together on a 2-D map.

One module per step (each a set of small functions the tests call directly):

- ``data`` -- the graph read from the database (the named queries of
  ``soundscraping.storage.graph_queries``, streamed in chunks) into a ``scipy.sparse``
  CSR matrix, never dense.  Score of a pair = likes x 1 + (reposts + follows +
  comments) x 3 (the GRAPH_WEIGHTS setting; ``--*-weight``).  Rows are the
  accounts in ``soundcloud_graph_visits``, or the distinct sources of the
  interactions when that table is empty or missing.  Then the row filters:
  score sum >= ``--min-score`` (50), rows divided by their sum, largest share
  <= ``--max-share`` (0.4) (accounts that mostly interact with one account,
  often themselves, are dropped).
- ``embed`` -- truncated SVD to 50 dimensions on the sparse matrix (ARPACK;
  a randomized solver above 5 M non-zeros), then openTSNE (cosine metric,
  ``--perplexity`` 30, FFT gradient, fixed ``--seed`` and a fixed 2 threads
  by default: the same data gives the same map).  The plain
  2-component PCA (ARPACK, which centres sparse input implicitly) is kept for
  comparison.
- ``cluster`` -- k-means on the L2-normalised SVD embedding (distances follow
  the cosine geometry the 2-D map used), k in 2..``--max-clusters`` by the best
  silhouette score (on at most 3,000 points, fixed seed).
- ``render`` -- ``coordinates.csv``, ``map.html`` (self-contained plotly page
  from the ``map.html`` template shipped in this package: hover,
  click-to-profile, search, zoom, PCA toggle; no network), ``map.png``
  (labelled sample) and ``pca.png``.
- ``cli`` -- the command: stages with progress and seconds, ``summary.json``.

User mistakes (bad URL, unreachable database, missing tables, empty or too
small graph, unwritable ``--out``) end with one line on stderr and exit code 2.
"""

from __future__ import annotations


class MapError(Exception):
    """A problem the user can fix (reported as one line, exit code 2)."""
