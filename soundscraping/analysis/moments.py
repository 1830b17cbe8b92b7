"""Moments: where along a track people comment, and how they feel there.

SoundCloud comments carry ``timestamp_ms``, the moment of the track they were
written at (NULL for some: those are ignored here).  The timed comments of a
track become a density along it:

- **Density**: a Gaussian kernel density estimate over the timestamps with a
  fixed bandwidth in seconds (``BANDWIDTH_S``, default 2.5 s: about how long
  a reaction to a drop lasts), evaluated on a 100 ms grid from 0 to the
  track's duration (edges reflected, so a moment at 0:01 is not halved).
  It is **normalised by duration**: 1.0 is the track's average rate
  (its timed comments / its duration), so 4.0 means four times as many
  comments per second as the track gets on average, whatever its length or
  popularity.
- **Peaks** (``find_moments``): local maxima of that density with a
  topographic prominence of at least ``PROMINENCE`` (default 1.5 average
  rates above the higher of the two valleys around it, scipy's
  ``find_peaks``), at least ``MIN_GAP_S`` apart.  A moment spans the peak's
  width at half its prominence (``peak_widths``): ``start_ms``..``end_ms``;
  its ``comment_count`` is the timed comments inside that span.  A peak is
  kept only if that count is at least ``MIN_COMMENTS`` and more than chance
  would put there: under comments spread uniformly over the track, the
  probability of that many or more in a span that long *anywhere* along the
  track (the Poisson tail times the number of such spans the track holds, a
  Bonferroni bound on the scan) must be below ``CHANCE`` (0.01).  The prominence alone would let noise through on a
  track with few comments (one lone comment there is already a high, narrow
  bump of density); the chance test scales with the track's comment count.
  ``mean_sentiment`` is the mean compound score of the moment's comments
  that have one (NULL when none has: e.g. all in uncovered languages).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

BANDWIDTH_S = 2.5
PROMINENCE = 1.5
MIN_COMMENTS = 3
CHANCE = 0.01
MIN_GAP_S = 5.0
GRID_MS = 100


@dataclass(frozen=True)
class Moment:
    start_ms: int
    end_ms: int
    peak_ms: int
    comment_count: int
    mean_sentiment: float | None
    scored_comments: int
    density: float  # at the peak, in average rates
    prominence: float


@dataclass(frozen=True)
class Density:
    grid_ms: np.ndarray  # sample positions
    values: np.ndarray  # in average rates (1.0 = the track's mean comment rate)
    span_ms: int


def track_span(stamps_ms: Sequence[int], duration_ms: int | None) -> int:
    """The length the density covers: the duration, stretched to the last
    comment when a timestamp lies past it (or no duration is known)."""
    last = max(stamps_ms, default=0)
    return max(int(duration_ms or 0), last + GRID_MS, GRID_MS)


def comment_density(stamps_ms: Sequence[int], duration_ms: int | None, bandwidth_s: float = BANDWIDTH_S) -> Density:
    """Gaussian KDE of the timestamps, normalised by duration (see module)."""
    from scipy.ndimage import gaussian_filter1d

    span = track_span(stamps_ms, duration_ms)
    bins = math.ceil(span / GRID_MS) + 1
    grid = np.arange(bins) * GRID_MS
    if not stamps_ms:
        return Density(grid, np.zeros(bins), span)
    counts = np.bincount(np.clip(np.rint(np.asarray(stamps_ms) / GRID_MS).astype(int), 0, bins - 1),
                         minlength=bins).astype(float)
    smoothed = gaussian_filter1d(counts, sigma=bandwidth_s * 1000 / GRID_MS, mode="reflect", truncate=4.0)
    # smoothed: comments per grid step; the average rate is n / bins per step.
    return Density(grid, smoothed / (len(stamps_ms) / bins), span)


def find_moments(comments: Sequence[tuple[int, float | None]], duration_ms: int | None, *,
                 bandwidth_s: float = BANDWIDTH_S, prominence: float = PROMINENCE,
                 min_comments: int = MIN_COMMENTS, min_gap_s: float = MIN_GAP_S) -> list[Moment]:
    """The moments of one track from its (timestamp_ms, compound or None)
    comments (NULL timestamps already left out); see the module docstring."""
    from scipy.signal import find_peaks, peak_widths
    from scipy.stats import poisson

    stamps = np.asarray([c[0] for c in comments], dtype=np.int64)
    if len(stamps) < min_comments:
        return []
    scores = np.asarray([np.nan if c[1] is None else c[1] for c in comments], dtype=float)
    density = comment_density(stamps.tolist(), duration_ms, bandwidth_s)
    peaks, props = find_peaks(density.values, prominence=prominence,
                              distance=max(1, round(min_gap_s * 1000 / GRID_MS)))
    if not len(peaks):
        return []
    _, _, left, right = peak_widths(density.values, peaks, rel_height=0.5, prominence_data=(
        props["prominences"], props["left_bases"], props["right_bases"]))
    moments = []
    for peak, prom, lo, hi in zip(peaks, props["prominences"], left, right, strict=True):
        start, end = round(lo * GRID_MS), round(hi * GRID_MS)
        inside = (stamps >= start) & (stamps <= end)
        count = int(inside.sum())
        width = max(end - start, GRID_MS)
        chance = poisson.sf(count - 1, len(stamps) * width / density.span_ms) * density.span_ms / width
        if count < min_comments or chance >= CHANCE:
            continue
        scored = scores[inside & ~np.isnan(scores)]
        moments.append(Moment(
            start_ms=start, end_ms=end, peak_ms=int(density.grid_ms[peak]), comment_count=count,
            mean_sentiment=float(scored.mean()) if len(scored) else None, scored_comments=len(scored),
            density=float(density.values[peak]), prominence=float(prom)))
    return moments
