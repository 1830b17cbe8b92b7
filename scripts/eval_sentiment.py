"""Accuracy and macro-F1 of plain VADER and of the music model on the labelled
comments (tests/fixtures/sentiment/comments.csv; how they were labelled: the
README beside it).

    python scripts/eval_sentiment.py                 # all, dev and held-out test figures
    python scripts/eval_sentiment.py --errors dev    # the dev rows the music model gets wrong

Scored rows are those whose gold language the model covers (en, or no words);
a scored row the model leaves unscored counts as wrong.  The other-language
rows measure the language gate (they must be left unscored).  Tune on dev
only: test is the held-out figure.
"""

from __future__ import annotations

import argparse
import csv
import sys
from pathlib import Path

from sklearn.metrics import accuracy_score, f1_score

from soundscraping.analysis.sentiment import MusicSentiment, PlainVader, Score

FIXTURE = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "sentiment" / "comments.csv"
LABELS = ["positive", "neutral", "negative"]
COVERED = {"en", "none"}


def load(path: Path = FIXTURE) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def figures(rows: list[dict[str, str]], scores: list[Score]) -> dict[str, float]:
    covered = [(r, s) for r, s in zip(rows, scores, strict=True) if r["language"] in COVERED]
    gold = [r["label"] for r, _ in covered]
    predicted = [s.label or "unscored" for _, s in covered]
    others = [s for r, s in zip(rows, scores, strict=True) if r["language"] not in COVERED]
    return {
        "n": len(covered),
        "accuracy": accuracy_score(gold, predicted),
        "macro_f1": f1_score(gold, predicted, labels=LABELS, average="macro", zero_division=0),
        "other_n": len(others),
        "other_unscored": sum(s.compound is None for s in others) / len(others) if others else float("nan"),
        "other_code_right": sum(s.language == r["language"] for r, s in zip(rows, scores, strict=True)
                                if r["language"] not in COVERED),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--errors", choices=["dev", "test", "all"], help="list the music model's mistakes")
    args = parser.parse_args(argv)
    rows = load()
    models = {"plain VADER": PlainVader(), "VADER + music lexicon": MusicSentiment()}
    scores = {name: model.score_many([r["text"] for r in rows]) for name, model in models.items()}
    print(f"labelled comments: {len(rows)} ({FIXTURE.relative_to(FIXTURE.parents[3])})")
    print(f"{'model':<24} {'split':<5} {'n':>4} {'accuracy':>9} {'macro-F1':>9} {'other-language unscored':>24}")
    for name, model_scores in scores.items():
        for split in ("all", "dev", "test"):
            keep = [i for i, r in enumerate(rows) if split == "all" or r["split"] == split]
            f = figures([rows[i] for i in keep], [model_scores[i] for i in keep])
            print(f"{name:<24} {split:<5} {f['n']:>4} {f['accuracy']:>9.3f} {f['macro_f1']:>9.3f} "
                  f"{f['other_unscored']:>17.0%} of {f['other_n']:>3}")
    music_all = figures(rows, scores["VADER + music lexicon"])
    print(f"other-language rows whose language the music model names right: {music_all['other_code_right']} "
          f"of {music_all['other_n']} (a wrong code still leaves them unscored)")
    print(f"music model version: {models['VADER + music lexicon'].version}")
    if args.errors:
        music = scores["VADER + music lexicon"]
        for row, score in zip(rows, music, strict=True):
            if args.errors not in ("all", row["split"]):
                continue
            covered = row["language"] in COVERED
            wrong = (score.label != row["label"]) if covered else score.compound is not None
            if wrong:
                print(f"  {row['id']:<14} gold={row['label']:<8} lang={row['language']:<4} "
                      f"got={score.label}/{score.language} {score.compound}  {row['text']!r}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
