"""The README's pytest-plugin example runs as printed, in a project of its own."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _blocks_after(marker: str) -> list[str]:
    text = (ROOT / "README.md").read_text()
    section = text[text.index(marker) :]
    return re.findall(r"```python\n(.*?)```", section, re.S)[:2]


def test_the_readme_plugin_example_passes_in_a_fresh_project(tmp_path: Path) -> None:
    conftest, test = _blocks_after("the simulator comes as pytest fixtures")
    (tmp_path / "conftest.py").write_text(conftest)
    (tmp_path / "test_mine.py").write_text(test)
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
         str(tmp_path)],
        cwd=tmp_path, capture_output=True, text=True, timeout=120, check=False,
        env={"PATH": "/usr/bin:/bin", "PYTHONPATH": str(ROOT)},
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 passed" in done.stdout
