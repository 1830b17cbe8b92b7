"""Pictures of a track's moments: ``moments.png`` (matplotlib, Agg) and
``moments.html`` (plotly with plotly.js inlined: it opens offline and fetches
nothing).  Both draw, along the track: the stored waveform (grey, when the
media pipeline kept one), the comment density in average rates, the moments
as shaded spans, and each timed comment as a dot at its sentiment (-1..+1;
hollow grey on the axis when it has no score)."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from soundscraping.analysis.moments import Density, Moment


@dataclass(frozen=True)
class Waveform:
    """SoundCloud's waveform JSON: ``samples`` (heights 0..``height``) evenly
    spread over the track."""

    samples: list[int]
    height: int

    @classmethod
    def from_json(cls, data: bytes | str) -> Waveform:
        doc = json.loads(data)
        samples = doc.get("samples") if isinstance(doc, dict) else None
        if not isinstance(samples, list) or not samples or not all(isinstance(s, int | float) for s in samples):
            raise ValueError("not a SoundCloud waveform (no numeric 'samples' list)")
        height = doc.get("height") or max(samples) or 1
        return cls([int(s) for s in samples], int(height))

    def along(self, span_ms: int) -> tuple[np.ndarray, np.ndarray]:
        """(positions in s, heights 0..1) of the samples over ``span_ms``."""
        heights = np.asarray(self.samples, dtype=float) / self.height
        return np.linspace(0, span_ms / 1000, len(heights)), heights


def _title(track_title: str | None, track_id: int) -> str:
    return f"{track_title or 'track'} (id {track_id})"


def _mmss(ms: float) -> str:
    seconds = round(ms / 1000)
    return f"{seconds // 60}:{seconds % 60:02d}"


def draw_png(path: Path, track_id: int, title: str | None, density: Density, moments: Sequence[Moment],
             comments: Sequence[tuple[int, float | None]], waveform: Waveform | None) -> None:
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.pyplot as plt

    seconds = density.grid_ms / 1000
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(14, 6), sharex=True, height_ratios=(3, 2))
    if waveform is not None:
        x, h = waveform.along(density.span_ms)
        scale = max(float(density.values.max()), 1.0)
        top.fill_between(x, 0, h * scale, color="#d0d0d0", step="mid", label="waveform", linewidth=0)
    top.plot(seconds, density.values, color="#e4572e", linewidth=1.5, label="comment density")
    top.axhline(1.0, color="#888", linewidth=0.8, linestyle=":", label="track average")
    for m in moments:
        for ax in (top, bottom):
            ax.axvspan(m.start_ms / 1000, m.end_ms / 1000, color="#f3a712", alpha=0.25, linewidth=0)
        top.annotate(f"{_mmss(m.peak_ms)}\n{m.comment_count} comments", (m.peak_ms / 1000, m.density),
                     textcoords="offset points", xytext=(0, 4), ha="center", fontsize=8)
    top.set_ylabel("comments (× track average rate)")
    top.legend(loc="upper right", fontsize=8)
    top.set_title(_title(title, track_id))
    stamps = np.asarray([c[0] for c in comments], dtype=float) / 1000
    scores = np.asarray([np.nan if c[1] is None else c[1] for c in comments], dtype=float)
    known = ~np.isnan(scores)
    bottom.scatter(stamps[known], scores[known], c=scores[known], cmap="RdYlGn", vmin=-1, vmax=1, s=14,
                   edgecolors="none")
    bottom.scatter(stamps[~known], np.zeros(int((~known).sum())), facecolors="none", edgecolors="#999", s=14,
                   label="no score (language not covered)")
    for m in moments:
        if m.mean_sentiment is not None:
            bottom.hlines(m.mean_sentiment, m.start_ms / 1000, m.end_ms / 1000, color="#333", linewidth=2)
    bottom.axhline(0, color="#888", linewidth=0.6)
    bottom.set_ylim(-1.05, 1.05)
    bottom.set_ylabel("sentiment (compound)")
    bottom.set_xlabel("position in the track (s)")
    if (~known).any():
        bottom.legend(loc="lower right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def draw_html(path: Path, track_id: int, title: str | None, density: Density, moments: Sequence[Moment],
              comments: Sequence[tuple[int, float | None]], waveform: Waveform | None) -> None:
    import plotly.graph_objects as go
    import plotly.io as pio
    from plotly.subplots import make_subplots

    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, row_heights=(0.6, 0.4), vertical_spacing=0.06)
    seconds = density.grid_ms / 1000
    if waveform is not None:
        x, h = waveform.along(density.span_ms)
        scale = max(float(density.values.max()), 1.0)
        fig.add_trace(go.Scatter(x=x, y=h * scale, name="waveform", fill="tozeroy", mode="none",
                                 fillcolor="rgba(160,160,160,0.35)", hoverinfo="skip"), row=1, col=1)
    fig.add_trace(go.Scatter(x=seconds, y=density.values, name="comment density", line={"color": "#e4572e"},
                             hovertemplate="%{x:.1f} s: %{y:.2f}× average<extra></extra>"), row=1, col=1)
    for m in moments:
        fig.add_vrect(x0=m.start_ms / 1000, x1=m.end_ms / 1000, fillcolor="#f3a712", opacity=0.25, line_width=0)
    fig.add_trace(go.Scatter(
        x=[m.peak_ms / 1000 for m in moments], y=[m.density for m in moments], mode="markers", name="moments",
        marker={"color": "#f3a712", "size": 10, "symbol": "triangle-down"},
        text=[f"{_mmss(m.start_ms)}–{_mmss(m.end_ms)}: {m.comment_count} comments, mean sentiment "
              f"{'n/a' if m.mean_sentiment is None else f'{m.mean_sentiment:+.2f}'}" for m in moments],
        hovertemplate="%{text}<extra></extra>"), row=1, col=1)
    known = [(t / 1000, s) for t, s in comments if s is not None]
    unknown = [t / 1000 for t, s in comments if s is None]
    fig.add_trace(go.Scatter(x=[k[0] for k in known], y=[k[1] for k in known], mode="markers", name="comments",
                             marker={"color": [k[1] for k in known], "colorscale": "RdYlGn", "cmin": -1, "cmax": 1,
                                     "size": 6},
                             hovertemplate="%{x:.1f} s: %{y:+.2f}<extra></extra>"), row=2, col=1)
    if unknown:
        fig.add_trace(go.Scatter(x=unknown, y=[0] * len(unknown), mode="markers", name="no score",
                                 marker={"color": "rgba(0,0,0,0)", "line": {"color": "#999", "width": 1}, "size": 6},
                                 hovertemplate="%{x:.1f} s: not scored<extra></extra>"), row=2, col=1)
    fig.update_yaxes(title_text="comments (× average)", row=1, col=1)
    fig.update_yaxes(title_text="sentiment", range=[-1.05, 1.05], row=2, col=1)
    fig.update_xaxes(title_text="position in the track (s)", row=2, col=1)
    fig.update_layout(title=_title(title, track_id), template="plotly_white", margin={"t": 60})
    plot = pio.to_html(fig, full_html=False, include_plotlyjs=True, div_id="moments", config={"displaylogo": False})
    rows = "".join(
        f"<tr><td>{_mmss(m.start_ms)}–{_mmss(m.end_ms)}</td><td>{_mmss(m.peak_ms)}</td><td>{m.comment_count}</td>"
        f"<td>{'' if m.mean_sentiment is None else f'{m.mean_sentiment:+.2f}'}</td><td>{m.density:.1f}</td></tr>"
        for m in moments) or "<tr><td colspan=5>no moment (no density peak passed the threshold)</td></tr>"
    page = (f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(_title(title, track_id))}"
            "</title></head><body style='font-family:sans-serif'>"
            f"{plot}<table border=1 cellpadding=4 style='border-collapse:collapse'><tr><th>moment</th><th>peak</th>"
            f"<th>comments</th><th>mean sentiment</th><th>× average rate</th></tr>{rows}</table>"
            f"<p>{len(comments)} timed comments; waveform: {'stored' if waveform else 'not stored'}.</p>"
            "</body></html>")
    path.write_text(page, encoding="utf-8")

