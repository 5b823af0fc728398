"""The command line is a layer on the public API: it imports nothing private of the package."""

from __future__ import annotations

import ast
from pathlib import Path

import bitget_cancel.cli

CLI = Path(bitget_cancel.cli.__file__).parent
ALLOWED = {"bitget_cancel", "bitget_cancel.sim"}


def _package_imports(path: Path) -> list[str]:
    """Every module of the package that ``path`` imports, as an absolute name."""
    names = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names if a.name.startswith("bitget_cancel")]
        elif isinstance(node, ast.ImportFrom):
            if node.level == 1:
                names.append(f"bitget_cancel.cli.{node.module}" if node.module else "cli")
            elif node.level > 1:
                names.append("." * node.level + (node.module or ""))  # above cli/: refused
            elif node.module and node.module.startswith("bitget_cancel"):
                names.append(node.module)
    return names


def test_the_cli_imports_only_public_names_of_the_package() -> None:
    modules = sorted(CLI.glob("*.py"))
    assert len(modules) >= 10
    for path in modules:
        for name in _package_imports(path):
            assert name in ALLOWED or name.startswith("bitget_cancel.cli."), (path.name, name)
