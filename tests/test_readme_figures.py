"""The README's benchmark figures are a copy of benchmarks/RESULTS.md's: one source for both."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # benchmarks/ is a directory of the checkout, not installed
    sys.path.insert(0, str(ROOT))

from benchmarks.readme import END, START, MissingBlock, block, synced  # noqa: E402


def test_the_readme_quotes_the_figures_of_results_md_verbatim() -> None:
    readme = (ROOT / "README.md").read_text()
    results = (ROOT / "benchmarks" / "RESULTS.md").read_text()
    assert block(readme, "README.md") == block(results, "RESULTS.md"), (
        "README.md's benchmark figures differ from benchmarks/RESULTS.md: run "
        "python benchmarks/readme.py"
    )


def test_the_figures_block_names_every_headline_of_a_full_run() -> None:
    figures = block((ROOT / "benchmarks" / "RESULTS.md").read_text(), "RESULTS.md")
    assert "`python benchmarks/run.py" in figures
    assert "--quick" not in figures  # a full run of every workload
    assert "--only" not in figures
    for headline in ("**Throughput:**", "**Against ccxt**", "**Client CPU:**", "**Warm-up:**"):
        assert headline in figures


def test_sync_replaces_the_block_and_nothing_else() -> None:
    readme = f"intro\n{START}\nold figure\n{END}\noutro\n"
    results = f"# results\n{START}\nnew figure\n{END}\n## more\n"
    assert synced(readme, results) == f"intro\n{START}\nnew figure\n{END}\noutro\n"


@pytest.mark.parametrize(
    "text",
    ["no markers", f"{START} only a start", f"{END} before {START}", f"{START}{END}{START}{END}"],
)
def test_a_file_without_one_ordered_pair_of_markers_is_refused(text: str) -> None:
    with pytest.raises(MissingBlock, match=r"README\.md"):
        block(text, "README.md")
