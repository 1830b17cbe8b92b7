"""``soundscraping audio-report``: the analyser's tempo and key estimates
against Beatport's own ``bpm`` and ``key_name`` (noisy labels: the
GiantSteps datasets were made by correcting them), as figures on stdout and
a PNG (estimate vs label BPM; key relations)."""

from __future__ import annotations

from pathlib import Path

from soundscraping.audio.keys import MIREX_WEIGHTS, RELATIONS, Comparison, Key, compare, parse_key
from soundscraping.storage.audio_queries import LabelledEstimate


def pairs(rows: list[LabelledEstimate]) -> tuple[list[tuple[float, float]], list[tuple[Key, Key]], dict[str, int]]:
    """(bpm pairs, key pairs, counts of what could not be compared)."""
    bpm_pairs: list[tuple[float, float]] = []
    key_pairs: list[tuple[Key, Key]] = []
    skipped = {"no_label_bpm": 0, "no_estimate_bpm": 0, "no_label_key": 0, "no_estimate_key": 0}
    for r in rows:
        if r.label_bpm is None or r.label_bpm <= 0:
            skipped["no_label_bpm"] += 1
        elif r.bpm is None:
            skipped["no_estimate_bpm"] += 1
        else:
            bpm_pairs.append((r.bpm, r.label_bpm))
        label, estimate = parse_key(r.label_key), parse_key(r.key, r.scale)
        if label is None:
            skipped["no_label_key"] += 1
        elif estimate is None:
            skipped["no_estimate_key"] += 1
        else:
            key_pairs.append((estimate, label))
    return bpm_pairs, key_pairs, skipped


def summary_lines(result: Comparison, analysed: int, skipped: dict[str, int]) -> list[str]:
    def pct(x: float | None) -> str:
        return "n/a" if x is None else f"{100 * x:.1f}%"

    lines = [f"previews analysed: {analysed}",
             f"tempo: {result.tempo_pairs} with a Beatport bpm; Accuracy1 (±4%) {pct(result.accuracy1)}, "
             f"Accuracy2 (±4%, x2 x3 x1/2 x1/3 allowed) {pct(result.accuracy2)}",
             "tempo by factor: " + ", ".join(f"{k} {v}" for k, v in sorted(result.tempo_errors.items())),
             f"key: {result.key_pairs} with a Beatport key; MIREX weighted score "
             f"{'n/a' if result.mirex_score is None else f'{result.mirex_score:.3f}'}",
             "key relation    count  share  weight"]
    for name in RELATIONS:
        count = result.relations[name]
        share = count / result.key_pairs if result.key_pairs else 0.0
        lines.append(f"  {name:<12} {count:>6}  {100 * share:5.1f}%  {MIREX_WEIGHTS[name]:.1f}")
    not_compared = {k: v for k, v in skipped.items() if v}
    if not_compared:
        lines.append("not compared: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in not_compared.items()))
    return lines


def draw(bpm_pairs: list[tuple[float, float]], result: Comparison, out: Path) -> None:
    """Left: estimated vs Beatport BPM (log axes, the x1 x2 x1/2 lines);
    right: key estimates by relation to Beatport's key."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.5))
    if bpm_pairs:
        est, lab = zip(*bpm_pairs, strict=True)
        lo, hi = min(min(est), min(lab)) * 0.8, max(max(est), max(lab)) * 1.25
        for f, style in ((1, "-"), (2, "--"), (0.5, "--"), (3, ":"), (1 / 3, ":")):
            left.plot([lo, hi], [lo * f, hi * f], style, color="grey", linewidth=0.8)
        left.scatter(lab, est, s=10, alpha=0.6)
        left.set_xscale("log")
        left.set_yscale("log")
        left.set_xlim(lo, hi)
        left.set_ylim(lo, hi)
    acc1 = "n/a" if result.accuracy1 is None else f"{100 * result.accuracy1:.1f}%"
    acc2 = "n/a" if result.accuracy2 is None else f"{100 * result.accuracy2:.1f}%"
    left.set_title(f"Tempo: Accuracy1 {acc1}, Accuracy2 {acc2} (n={result.tempo_pairs})")
    left.set_xlabel("Beatport bpm")
    left.set_ylabel("estimated bpm")
    counts = [result.relations[r] for r in RELATIONS]
    right.bar(RELATIONS, counts, color=["#2a9d8f", "#8ab17d", "#e9c46a", "#f4a261", "#e76f51"])
    score = "n/a" if result.mirex_score is None else f"{result.mirex_score:.3f}"
    right.set_title(f"Key vs Beatport: MIREX score {score} (n={result.key_pairs})")
    right.set_ylabel("previews")
    fig.tight_layout()
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, dpi=110)
    plt.close(fig)


def report(rows: list[LabelledEstimate], out: Path | None) -> tuple[Comparison, list[str]]:
    bpm_pairs, key_pairs, skipped = pairs(rows)
    result = compare(bpm_pairs, key_pairs)
    if out is not None:
        draw(bpm_pairs, result, out)
    return result, summary_lines(result, len(rows), skipped)
