"""Copy the headline figures of benchmarks/RESULTS.md into README.md: one source for both.

python benchmarks/readme.py           # rewrite README.md's block from RESULTS.md
python benchmarks/readme.py --check   # exit 1 if they differ (tests/test_readme_figures.py)

``benchmarks/run.py`` writes the block into RESULTS.md between the two markers below and, after
a full run, calls this. The README keeps the same markers around its copy.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "RESULTS.md"
README = ROOT / "README.md"
START = "<!-- benchmarks:figures:start (generated from benchmarks/RESULTS.md) -->"
END = "<!-- benchmarks:figures:end -->"


class MissingBlock(ValueError):
    """A file lacks the markers of the figures block, or has them out of order."""


def block(text: str, name: str) -> str:
    """The text between the markers (markers excluded)."""
    start = text.find(START)
    end = text.find(END)
    if start < 0 or end < start or text.count(START) != 1 or text.count(END) != 1:
        raise MissingBlock(f"{name}: needs exactly one {START!r} before one {END!r}")
    return text[start + len(START) : end]


def synced(readme: str, results: str) -> str:
    """``readme`` with its figures block replaced by the one in ``results``."""
    figures = block(results, "RESULTS.md")
    block(readme, "README.md")  # both markers present, in order
    before, _, rest = readme.partition(START)
    _, _, after = rest.partition(END)
    return before + START + figures + END + after


def sync(readme: Path = README, results: Path = RESULTS) -> bool:
    """Rewrite ``readme`` from ``results``; True if it changed."""
    old = readme.read_text()
    new = synced(old, results.read_text())
    if new != old:
        readme.write_text(new)
    return new != old


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if README.md is stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = README.read_text() != synced(README.read_text(), RESULTS.read_text())
        if stale:
            print("README.md's benchmark figures differ from benchmarks/RESULTS.md; run "
                  "python benchmarks/readme.py", file=sys.stderr)  # fmt: skip
        return 1 if stale else 0
    changed = sync()
    print("README.md updated" if changed else "README.md already up to date", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
