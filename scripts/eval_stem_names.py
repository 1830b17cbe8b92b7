"""Accuracy of the stem naming (soundscraping.audio.stem_names) on the
hand-labelled real names in tests/fixtures/cambridge_mt, dev and held-out
test apart, with the confusions; and how many of the library's distinct stem
names no rule places (written to --unplaced).

    python scripts/eval_stem_names.py [--unplaced data/audio/unplaced_stem_names.txt]
"""

from __future__ import annotations

import argparse
import csv
from collections import Counter
from pathlib import Path

from soundscraping.audio.stem_names import instrument_group, unplaced

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "cambridge_mt"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--unplaced", type=Path, default=Path("data/audio/unplaced_stem_names.txt"))
    args = parser.parse_args()
    with open(FIXTURES / "stem_names_labelled.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    for split in ("dev", "test", "all"):
        part = [r for r in rows if split == "all" or r["split"] == split]
        wrong = [(r["name"], r["group"], instrument_group(r["name"])) for r in part
                 if instrument_group(r["name"]) != r["group"]]
        print(f"{split}: {len(part) - len(wrong)}/{len(part)} correct, accuracy {1 - len(wrong) / len(part):.3f}")
        if split != "all":
            for name, truth, got in wrong:
                print(f"    {name!r}: labelled {truth}, rules say {got}")
    names = (FIXTURES / "stem_file_names.txt").read_text(encoding="utf-8").splitlines()
    distinct = {n for n in names if n.strip()}
    left = unplaced(distinct)
    args.unplaced.parent.mkdir(parents=True, exist_ok=True)
    args.unplaced.write_text("".join(f"{n}\n" for n in left), encoding="utf-8")
    groups = Counter(instrument_group(n) for n in distinct)
    print(f"library: {len(names)} names, {len(distinct)} distinct; {len(left)} distinct unplaced (other, "
          f"{100 * len(left) / len(distinct):.1f}%), listed in {args.unplaced}")
    print("groups of the distinct names: " + ", ".join(f"{g} {c}" for g, c in groups.most_common()))


if __name__ == "__main__":
    main()
