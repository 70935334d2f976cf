"""The package's shape is a rule too: imports point only down the layers, there is no cycle, no
function hides an import of ours, and every module says its one job in its first docstring line."""
import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "toolkit"

# Lowest first. A module may import its own layer (no cycle) and any layer below it, never one above.
LAYERS = [
    ("foundation", ["vocab", "words", "problems", "errors", "resources", "buttons"]),
    ("model", ["model"]),
    ("rules", ["rules", "rules.*"]),
    ("settings", ["config", "profiles"]),
    ("assessment", ["assessment"]),
    ("files", ["io", "io.*"]),
    ("documents", ["documents", "documents.*"]),
    ("submissions", ["intake", "inbox", "archive", "readers", "merging"]),
    ("operations", ["distribute", "consolidate", "history", "check", "demo", "profile_demo", "profile_guess"]),
    ("application", ["guards", "results", "runstate", "outputs", "app"]),
    ("front ends", ["__init__", "__main__", "cli", "click_zh", "excel", "excel_checks", "addin", "nightly", "service_ops", "serve", "wps", "autostart"]),
]


def modules() -> dict[str, Path]:
    out = {}
    for path in PACKAGE.rglob("*.py"):
        parts = path.relative_to(PACKAGE).with_suffix("").parts
        name = ".".join(parts[:-1]) if parts[-1] == "__init__" and len(parts) > 1 else ".".join(parts)
        out[name] = path
    return out


def layer_of(name: str) -> int:
    for rank, (_, members) in enumerate(LAYERS):
        for m in members:
            if name == m or (m.endswith(".*") and name.startswith(m[:-1])):
                return rank
    raise AssertionError(f"toolkit/{name}.py is in no layer of tests/test_layers.py: place it")


def imports(name: str, path: Path, known: dict[str, Path]) -> list[tuple[str, int, bool]]:
    """(imported toolkit module, line, inside a function) for every import of ours in one module."""
    package = name.split(".") if path.name == "__init__.py" and name != "__init__" else name.split(".")[:-1]
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level:
            base = package[: len(package) - node.level + 1]
            mod = ".".join(base + ([node.module] if node.module else []))
            for alias in node.names:
                target = f"{mod}.{alias.name}".strip(".")
                target = target if target in known else mod
                out.append((target or "__init__", node.lineno, node.col_offset > 0))
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            for n in names:
                if n == "toolkit" or n.startswith("toolkit."):
                    out.append((n.removeprefix("toolkit").strip(".") or "__init__", node.lineno, node.col_offset > 0))
    return [(t, line, local) for t, line, local in out if t in known]


def graph() -> dict[str, set[str]]:
    known = modules()
    return {name: {t for t, _, _ in imports(name, path, known) if t != name} for name, path in known.items()}


def test_every_module_sits_in_a_layer_and_imports_only_its_own_layer_or_lower():
    known = modules()
    wrong = []
    for name, path in known.items():
        for target, line, _ in imports(name, path, known):
            if target != name and layer_of(target) > layer_of(name):
                wrong.append(f"toolkit/{name}（{LAYERS[layer_of(name)][0]}）第{line}行导入了上层的 {target}"
                             f"（{LAYERS[layer_of(target)][0]}）")
    assert not wrong, "\n".join(wrong)


def test_there_is_no_import_cycle():
    g = graph()
    seen, on_path, cycles = set(), [], []

    def visit(node):
        if node in on_path:
            cycles.append(on_path[on_path.index(node):] + [node])
            return
        if node in seen:
            return
        seen.add(node)
        on_path.append(node)
        for nxt in sorted(g[node]):
            visit(nxt)
        on_path.pop()

    for node in sorted(g):
        visit(node)
    assert not cycles, "import cycles: " + "; ".join(" → ".join(c) for c in cycles)


def test_no_function_hides_an_import_of_our_own_modules():
    known = modules()
    hidden = [f"toolkit/{name} line {line} imports {t}" for name, path in known.items()
              for t, line, local in imports(name, path, known) if local]
    assert not hidden, "\n".join(hidden)


@pytest.mark.parametrize("name", sorted(modules()))
def test_every_module_says_its_job_in_one_line(name):
    doc = ast.get_docstring(ast.parse(modules()[name].read_text(encoding="utf-8")))
    assert doc and len(doc.splitlines()[0]) > 10, f"toolkit/{name} has no one-line docstring"


def test_the_layer_check_catches_an_upward_import(tmp_path):
    """The check above is only worth something if it can fail: an io module importing the app is caught."""
    assert layer_of("io.sheets") < layer_of("app")
    path = tmp_path / "probe.py"
    path.write_text("from ..app import Workspace\n", encoding="utf-8")
    known = {**modules(), "io.probe": path}
    found = imports("io.probe", path, known)
    assert found == [("app", 1, False)] and layer_of(found[0][0]) > layer_of("io.probe")
