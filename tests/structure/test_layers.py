"""The package's shape: modules import only downward, and the public names are pinned."""

from __future__ import annotations

import ast
from pathlib import Path

import bitget_cancel

PACKAGE = Path(bitget_cancel.__file__).parent


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every package module a file imports, TYPE_CHECKING blocks included."""
    tree = ast.parse(path.read_text())
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            if module.startswith("bitget_cancel"):
                found.add(module)
                found.update(f"{module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("bitget_cancel"))
    return found


def _graph() -> dict[str, set[str]]:
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    return {
        name: {m for m in _imports(path) if m in files and m != name}
        for name, path in files.items()
    }


def test_no_import_cycle_among_the_package_modules() -> None:
    graph = _graph()
    # Packages' __init__ re-export their children; the edge parent -> child is not a cycle.
    for name in graph:
        graph[name] = {m for m in graph[name] if not m.startswith(name + ".")}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                raise AssertionError("import cycle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)


def test_the_core_never_imports_the_layers_above_it() -> None:
    graph = _graph()
    above = {"bitget_cancel._engine", "bitget_cancel.cli", "bitget_cancel.sim"}
    top = ("bitget_cancel._engine", "bitget_cancel.__main__")
    core = [n for n in graph if n.startswith("bitget_cancel._") and n not in top]
    for name in core:
        bad = {m for m in graph[name] if any(m == a or m.startswith(a + ".") for a in above)}
        assert not bad, f"{name} imports {bad}"
    for name in ("bitget_cancel._run", "bitget_cancel._panic"):
        assert "bitget_cancel._engine" not in graph[name]


def test_the_simulator_is_independent_of_the_engine() -> None:
    graph = _graph()
    for name, imported in graph.items():
        if name.startswith("bitget_cancel.sim"):
            engine_side = {m for m in imported if not m.startswith("bitget_cancel.sim")}
            assert not engine_side, f"{name} imports {engine_side}"


def test_the_public_names_are_exactly_these() -> None:
    assert sorted(bitget_cancel.__all__) == sorted(
        [
            "AiohttpTransport",
            "DEFAULT_BASE_URL",
            "DEFAULT_PANIC_DEADLINE",
            "ENV_API_KEY",
            "ENV_PASSPHRASE",
            "ENV_SECRET_KEY",
            "MODES",
            "Batch",
            "BitgetCancelError",
            # a budget store of your own (budgets=)
            "Budget",
            "BudgetProvider",
            "FirstInLine",
            "Slot",
            "CancelEngine",
            "CancelOutcome",
            "CancelReport",
            "CancelReportDict",
            "CancelStatus",
            "CancelTarget",
            "Credentials",
            "EngineClosed",
            "HttpRequest",
            "HttpResponse",
            "InvalidArgument",
            "InvalidBudgetStore",
            "InvalidCredentials",
            "InvalidDeadline",
            "InvalidMode",
            "InvalidRate",
            "InvalidSymbol",
            "InvalidTarget",
            "KindSummaries",
            "KindSummary",
            "KindSummaryDict",
            "LATENCY_BUCKETS",
            "LatencyHistogram",
            "MetricsSnapshot",
            "MockTransport",
            "NoEventLoop",
            "Mode",
            "OpenOrders",
            "OrderInfo",
            "OrderKind",
            "OrderKindName",
            "OutcomeDict",
            "PanicReport",
            "PanicReportDict",
            "OnOutcome",
            "Progress",
            "RequestTimeout",
            "TargetDict",
            "Transport",
            "TransportError",
            "__version__",
            "infer_kind",
            # the dead man's switch
            "BoardReading",
            "DeadManSwitch",
            "SwitchBoard",
            "SwitchEntry",
            "SwitchStatus",
            "UnsupportedPlatform",
            "WatchdogFailed",
            "WatchdogOrders",
            "WatchdogPipe",
            "install_panic_handler",
            "normalize_symbol",
            "plan_batches",
        ]
    )
    for name in bitget_cancel.__all__:
        assert hasattr(bitget_cancel, name), name


def test_every_exception_lives_in_one_module() -> None:
    for path in PACKAGE.glob("*.py"):
        if path.name == "_exceptions.py":
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases = {getattr(b, "id", getattr(b, "attr", "")) for b in node.bases}
                assert not bases & {"Exception", "ValueError", "BitgetCancelError"}, (
                    f"{path.name}: {node.name}"
                )


def test_the_command_line_imports_only_the_public_api() -> None:
    for name, imported in _graph().items():
        if name.startswith("bitget_cancel.cli"):
            private = {m for m in imported if m.startswith("bitget_cancel._")}
            assert not private, f"{name} imports {private}"
