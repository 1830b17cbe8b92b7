"""The map's files: ``coordinates.csv``, ``communities.csv``, ``map.html``
(from the ``map.html`` template beside this module, shipped as package data),
``map.png`` and ``pca.png``."""

from __future__ import annotations

import csv
import html
import json
import string
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from soundscraping.community_map.cluster import Community
from soundscraping.community_map.data import Account

DEFAULT_PROFILE_BASE = "https://soundcloud.com/"
# Above this many points the HTML uses WebGL (scattergl); SVG is sharper and
# needs no GPU below it.
WEBGL_THRESHOLD = 15_000
# Qualitative palette shared by map.html and map.png (matplotlib's tab20 then
# tab20b): 40 colours, more than the default --max-clusters.
PALETTE = (
    "#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22",
    "#17becf", "#aec7e8", "#ffbb78", "#98df8a", "#ff9896", "#c5b0d5", "#c49c94", "#f7b6d2", "#c7c7c7",
    "#dbdb8d", "#9edae5",
    "#393b79", "#5254a3", "#6b6ecf", "#9c9ede", "#637939", "#8ca252", "#b5cf6b", "#cedb9c", "#8c6d31",
    "#bd9e39", "#e7ba52", "#e7cb94", "#843c39", "#ad494a", "#d6616b", "#e7969c", "#7b4173", "#a55194",
    "#ce6dbd", "#de9ed6",
)
SINGLE_COLOUR = "#3b6fb6"


@dataclass
class MapPoints:
    """Everything the writers need, one entry per kept account."""

    account_ids: np.ndarray
    xy: np.ndarray  # the 2-D map (t-SNE or UMAP)
    pca: np.ndarray
    accounts: list[Account]
    partners: list[list[tuple[str, float]]]  # (display name, share of the row)
    clusters: np.ndarray | None = None  # community of every point
    profile_base: str = DEFAULT_PROFILE_BASE
    method: str = "t-SNE"
    communities: list[Community] = field(default_factory=list)
    names: dict[int, str] = field(default_factory=dict)  # display names of the central accounts

    def community_name(self, c: int) -> str:
        """The names of a community's central accounts."""
        central = self.communities[c].central if c < len(self.communities) else []
        return ", ".join(self.names.get(a.account_id, str(a.account_id)) for a in central) or f"community {c}"

    def name(self, i: int) -> str:
        a = self.accounts[i]
        return a.username or a.permalink or str(int(self.account_ids[i]))

    def url(self, i: int) -> str | None:
        permalink = self.accounts[i].permalink
        return self.profile_base + permalink if permalink else None


def page_template() -> string.Template:
    """map.html's page (``$name`` placeholders), read from the package so it
    is found in a wheel or a Scrapyd egg as well as in a checkout."""
    text = resources.files("soundscraping.community_map").joinpath("map.html").read_text(encoding="utf-8")
    return string.Template(text)


def write_csv(path: Path, points: MapPoints) -> None:
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        header = ["account_id", "permalink", "x", "y", "pca_x", "pca_y", "followers", "username"]
        writer.writerow(header + (["cluster"] if points.clusters is not None else []))
        for i, account_id in enumerate(points.account_ids):
            a = points.accounts[i]
            row = [int(account_id), a.permalink or "", repr(float(points.xy[i, 0])), repr(float(points.xy[i, 1])),
                   repr(float(points.pca[i, 0])), repr(float(points.pca[i, 1])),
                   "" if a.followers is None else a.followers, a.username or ""]
            writer.writerow(row + ([int(points.clusters[i])] if points.clusters is not None else []))


def write_communities_csv(path: Path, points: MapPoints, top: int = 3) -> None:
    """One row per community: id, size, name and its central accounts (id,
    name, score received from the members, share of its score from them)."""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["community", "size", "name",
                         *(f"central_{r}_{f}" for r in range(1, top + 1) for f in ("id", "name", "score", "share"))])
        for c in points.communities:
            cells: list[Any] = []
            for a in c.central[:top]:
                cells += [a.account_id, points.names.get(a.account_id, ""), round(a.score, 6), round(a.share, 6)]
            writer.writerow([c.id, c.size, points.community_name(c.id), *cells, *[""] * (4 * top - len(cells))])


def _hover(points: MapPoints, i: int) -> str:
    a = points.accounts[i]
    lines = [f"<b>{html.escape(points.name(i))}</b>"]
    if a.permalink:
        lines.append(html.escape(a.permalink))
    lines.append(f"followers: {a.followers:,}" if a.followers is not None else "followers: unknown")
    if points.clusters is not None:
        c = int(points.clusters[i])
        lines.append(f"community {c}: {html.escape(points.community_name(c))}")
    if points.partners[i]:
        lines.append("top partners:")
        lines += [f"&nbsp;&nbsp;{html.escape(name)} {share:.0%}" for name, share in points.partners[i]]
    return "<br>".join(lines)


def _marker_sizes(points: MapPoints, low: float, per_decade: float) -> np.ndarray:
    followers = np.array([a.followers or 0 for a in points.accounts], dtype=np.float64)
    return low + per_decade * np.log10(1 + np.clip(followers, 0, None))


def _groups(points: MapPoints) -> list[tuple[str, np.ndarray, str]]:
    """(legend name, point indices, colour) per trace."""
    if points.clusters is None:
        return [("accounts", np.arange(len(points.account_ids)), SINGLE_COLOUR)]
    return [(f"{c}: {points.community_name(c)} ({int((points.clusters == c).sum()):,})",
             np.flatnonzero(points.clusters == c), PALETTE[c % len(PALETTE)]) for c in np.unique(points.clusters)]


def _script_json(value: Any) -> str:
    """JSON safe inside a <script> element."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).replace("</", "<\\/")


def write_html(path: Path, points: MapPoints, title: str = "SoundCloud community map", subtitle: str = "") -> None:
    """A self-contained page: plotly.js inlined, no request leaves the file."""
    import plotly.graph_objects as go
    import plotly.io as pio

    n = len(points.account_ids)
    scatter = go.Scattergl if n > WEBGL_THRESHOLD else go.Scatter
    sizes = _marker_sizes(points, 4.0, 1.5)
    fig = go.Figure()
    traces = []
    for name, idx, colour in _groups(points):
        traces.append([int(i) for i in idx])
        fig.add_trace(scatter(
            x=points.xy[idx, 0], y=points.xy[idx, 1], mode="markers", name=name,
            customdata=[int(i) for i in idx], text=[_hover(points, int(i)) for i in idx],
            hovertemplate="%{text}<extra></extra>",
            marker={"color": colour, "size": sizes[idx], "opacity": 0.75, "line": {"width": 0.5, "color": "white"}},
        ))
    fig.add_trace(scatter(  # the search highlight, filled in by the page's script
        x=[], y=[], mode="markers+text", name="search", showlegend=False, hoverinfo="skip",
        textposition="top center", textfont={"size": 14, "color": "#b00"},
        marker={"size": 18, "color": "rgba(0,0,0,0)", "line": {"width": 3, "color": "#d00"}},
    ))
    tsne_title = f"{points.method} of the interaction profiles"
    pca_title = "PCA (2 components) of the interaction profiles"
    fig.update_layout(
        template="plotly_white", title={"text": tsne_title}, dragmode="pan", hovermode="closest",
        xaxis={"showticklabels": False, "zeroline": False, "title": None},
        yaxis={"showticklabels": False, "zeroline": False, "title": None, "scaleanchor": "x"},
        legend={"itemsizing": "constant", "title": {"text": "communities (central accounts, size)"}},
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        showlegend=points.clusters is not None,
    )
    plot = pio.to_html(fig, full_html=False, include_plotlyjs=True, div_id="map", default_height="100%",
                       config={"scrollZoom": True, "displaylogo": False, "responsive": True},
                       post_script="window.initMap(document.getElementById('{plot_id}'));")
    accounts = [{"id": int(points.account_ids[i]), "name": points.name(i), "permalink": points.accounts[i].permalink,
                 "url": points.url(i), "t": [float(v) for v in points.xy[i]], "p": [float(v) for v in points.pca[i]]}
                for i in range(n)]
    options = "".join(f'<option value="{html.escape(points.name(i))}">' for i in range(n))
    page = page_template().substitute(
        title=html.escape(title), subtitle=html.escape(subtitle), options=options, accounts=_script_json(accounts),
        traces=_script_json(traces), tsne_title=_script_json(tsne_title), pca_title=_script_json(pca_title),
        show_method=_script_json(f"Show {points.method}"), plot=plot)
    path.write_text(page, encoding="utf-8")


def label_sample(xy: np.ndarray, priority: np.ndarray, widths: np.ndarray, limit: int = 40,
                 height: float = 0.022, frame: np.ndarray | None = None) -> list[int]:
    """Up to ``limit`` points to label, highest ``priority`` first, skipping
    any whose label box (``widths`` and ``height`` as fractions of the map's
    extent, starting at the point) would overlap one already chosen.  The
    map's extent is that of ``frame`` (default: ``xy``)."""
    if len(xy) == 0 or limit <= 0:
        return []
    frame = xy if frame is None else frame
    extent = np.ptp(frame, axis=0)
    scaled = (xy - frame.min(axis=0)) / np.where(extent > 0, extent, 1)
    chosen: list[int] = []
    for i in np.argsort(-priority, kind="stable"):
        x, y = scaled[i]
        if all(x + widths[i] <= scaled[j, 0] or scaled[j, 0] + widths[j] <= x
               or abs(y - scaled[j, 1]) >= height for j in chosen):
            chosen.append(int(i))
            if len(chosen) >= limit:
                break
    return chosen


def write_png(path: Path, points: MapPoints, coords: np.ndarray, title: str, labels: int = 40,
              size_inches: float = 12.0, activity: np.ndarray | None = None, name_communities: bool = True) -> None:
    """A static picture with a readable, non-overlapping sample of labels and,
    with communities, each one's name written at its centre and in the legend."""
    import matplotlib

    matplotlib.use("Agg")  # no display needed
    import matplotlib.patheffects as effects
    import matplotlib.pyplot as plt

    # Room on the right for the legend of named communities.
    width = size_inches * (1.45 if points.clusters is not None else 1.0)
    fig, ax = plt.subplots(figsize=(width, size_inches), dpi=150)
    sizes = _marker_sizes(points, 4.0, 4.0) * size_inches / 12
    for name, idx, colour in _groups(points):
        ax.scatter(coords[idx, 0], coords[idx, 1], s=sizes[idx], c=colour, alpha=0.7, linewidths=0,
                   label=name if points.clusters is not None else None)
    if labels:
        followers = np.array([a.followers or 0 for a in points.accounts], dtype=np.float64)
        # Most-followed first; activity breaks ties (and stands in when followers are unknown).
        extra = activity if activity is not None else np.zeros(len(followers))
        priority = followers + extra / (extra.max() + 1 if len(extra) else 1)
        # About 0.6 em per character at 8 pt on the figure's width, plus the offset.
        widths = np.array([0.012 + 0.6 * 8 / 72 * len(points.name(i)) / size_inches for i in range(len(coords))])
        for i in label_sample(coords, priority, widths, labels):
            ax.annotate(points.name(i), coords[i], xytext=(3, 3), textcoords="offset points", fontsize=8,
                        path_effects=[effects.withStroke(linewidth=2.5, foreground="white")])
    if points.clusters is not None and name_communities:
        # Each community's most central account at its centre (the legend has all three), biggest
        # communities first, none over another.
        ids = np.unique(points.clusters)
        centres = np.array([np.median(coords[points.clusters == c], axis=0) for c in ids])
        texts = [f"{c}: {points.community_name(int(c)).split(', ')[0]}" for c in ids]
        widths = np.array([0.012 + 0.6 * 10 / 72 * len(t) / size_inches for t in texts])
        sizes_of = np.array([(points.clusters == c).sum() for c in ids], dtype=np.float64)
        starts = centres - np.c_[widths / 2 * np.ptp(coords[:, 0]), np.zeros(len(ids))]  # centred labels
        for j in label_sample(starts, sizes_of, widths, len(ids), height=0.03, frame=coords):
            # Dark text (the light half of the palette is unreadable on white); the number is the legend's.
            ax.annotate(texts[j], centres[j], ha="center", va="center", fontsize=10, fontweight="bold",
                        color="#222222", path_effects=[effects.withStroke(linewidth=3, foreground="white")])
    if points.clusters is not None:
        # Beside the map, not over it: a legend of 20-30 named communities is long.
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1), fontsize=7, markerscale=2, frameon=False,
                  title="communities (central accounts, size)", title_fontsize=8)
    ax.set_title(title)
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_aspect("equal", adjustable="datalim")
    fig.tight_layout()
    fig.savefig(path, bbox_inches="tight")
    plt.close(fig)
