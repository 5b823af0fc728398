"""The README's complete examples pass ``mypy --strict`` as printed: the first example, and
every example of "Inside a strategy"."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from mypy import api

ROOT = Path(__file__).resolve().parents[2]


def _section(title: str) -> str:
    text = (ROOT / "README.md").read_text()
    start = text.index(f"\n## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end != -1 else None]


def _examples() -> list[tuple[str, str]]:
    blocks = re.findall(r"```python\n(.*?)```", _section("Use it from an async strategy"), re.S)
    found = [("first example", blocks[0])]
    inside = re.findall(r"```python\n(.*?)```", _section("Inside a strategy"), re.S)
    found += [(f"inside a strategy #{n}", block) for n, block in enumerate(inside, 1)]
    return found


@pytest.mark.parametrize(("name", "code"), _examples(), ids=lambda value: str(value)[:30])
def test_the_readme_example_passes_mypy_strict(name: str, code: str, tmp_path: Path) -> None:
    example = tmp_path / "example.py"
    example.write_text(code)
    out, err, status = api.run(
        ["--strict", "--no-incremental", "--cache-dir", str(tmp_path / "cache"), str(example)]
    )
    assert status == 0, f"{name}:\n{out}{err}"
