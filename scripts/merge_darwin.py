"""Merge ``darwin-bench reproduce darwin --json`` results run on different held-out seeds.

One command per seed (or per level) keeps a long reproduction's finished seeds when it is
stopped; this pools them into the result one command over all seeds computes
(:func:`baselines.darwin_report.merge`), writes ``OUT/darwin.json`` and ``OUT/darwin.png``:

    for S in 10 11 12 13 14 15 16 17 18 19; do
      darwin-bench reproduce darwin --task digits --json --out runs/d/$S \\
        --options "{\"levels\": [\"cluster\"], \"seeds\": [$S]}" > runs/d/cluster-$S.json
    done
    python scripts/merge_darwin.py runs/d/cluster-*.json --out runs/d
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from baselines.darwin_report import merge, plot


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", nargs="+", type=Path, help="reproduce darwin JSON files")
    parser.add_argument("--out", type=Path, required=True, help="folder for darwin.json/.png")
    args = parser.parse_args()
    merged = merge([json.loads(p.read_text()) for p in args.results])
    args.out.mkdir(parents=True, exist_ok=True)
    merged["plot"] = str(plot(args.out / "darwin.png", merged["rows"]))
    (args.out / "darwin.json").write_text(json.dumps(merged, indent=2))
    print(json.dumps({k: v for k, v in merged.items() if k != "rows"}, indent=2))


if __name__ == "__main__":
    main()
