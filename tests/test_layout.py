"""The architecture holds: no import cycle, no private name across modules, ``__all__`` in every
module, the layering of the packages, and a wheel (what ``--setup_file`` ships to remote workers)
that holds every package and data file of the tree."""
from __future__ import annotations

import ast
import pathlib
import subprocess
import sys
import zipfile
from typing import Dict, List, Set

import pytest

from tests.conftest import REPO

PACKAGES = ("pipelines", "transforms", "schemas")


def _modules() -> Dict[str, pathlib.Path]:
    out = {}
    for top in PACKAGES:
        for path in sorted((REPO / top).rglob("*.py")):
            parts = list(path.relative_to(REPO).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts = parts[:-1]
            out[".".join(parts)] = path
    return out


MODULES = _modules()


def _imports(name: str, path: pathlib.Path) -> List[ast.ImportFrom]:
    return [n for n in ast.walk(ast.parse(path.read_text(encoding="utf-8"))) if isinstance(n, ast.ImportFrom)]


def _graph() -> Dict[str, Set[str]]:
    """module -> project modules it imports (``from pkg import mod`` counts as importing mod)."""
    graph: Dict[str, Set[str]] = {m: set() for m in MODULES}
    for name, path in MODULES.items():
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            targets: List[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            for target in targets:
                if target in MODULES and target != name:
                    graph[name].add(target)
    return graph


def _cycles(graph: Dict[str, Set[str]]) -> List[List[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on: Set[str] = set()
    out: List[List[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def _package_of(module: str) -> str:
    parts = module.split(".")
    return ".".join(parts[:2]) if parts[0] == "transforms" and len(parts) > 2 else parts[0]


def test_no_import_cycle_between_modules():
    assert _cycles(_graph()) == []


def test_a_cycle_is_detected():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_no_import_cycle_between_packages_and_transforms_never_import_pipelines():
    packages: Dict[str, Set[str]] = {}
    for module, targets in _graph().items():
        packages.setdefault(_package_of(module), set()).update(
            _package_of(t) for t in targets if _package_of(t) != _package_of(module))
    assert _cycles(packages) == [], packages
    offenders = sorted(m for m, ts in _graph().items() if m.startswith(("transforms", "schemas"))
                       and any(t.startswith("pipelines") for t in ts))
    assert offenders == []


def test_no_private_name_is_imported_from_another_module():
    bad = []
    for name, path in MODULES.items():
        for node in _imports(name, path):
            if node.module and node.module.split(".")[0] in PACKAGES:
                bad += [f"{name}: {a.name} from {node.module}" for a in node.names
                        if a.name.startswith("_") and not a.name.startswith("__")]
    assert bad == []


@pytest.mark.parametrize("name", sorted(n for n, p in MODULES.items() if p.name not in ("__main__.py",)))
def test_every_module_declares_its_public_names(name):
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    declared = [n for n in tree.body if isinstance(n, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "__all__" for t in n.targets)]
    if MODULES[name].name == "__init__.py" and not any(isinstance(n, (ast.FunctionDef, ast.ClassDef)) for n in tree.body):
        if not declared:
            return  # a package's face that defines nothing
    assert declared, f"{name} has no __all__"
    names = ast.literal_eval(declared[0].value)
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    defined |= {t.id for n in tree.body if isinstance(n, (ast.Assign, ast.AnnAssign))
                for t in (n.targets if isinstance(n, ast.Assign) else [n.target]) if isinstance(t, ast.Name)}
    defined |= {a.asname or a.name for n in tree.body if isinstance(n, (ast.Import, ast.ImportFrom)) for a in n.names}
    if MODULES[name].name == "__init__.py":
        defined |= {p.stem for p in MODULES[name].parent.glob("*.py")} | {p.name for p in MODULES[name].parent.iterdir()
                                                                           if (p / "__init__.py").exists()}
    assert sorted(set(names) - defined) == [], name


def test_the_wheel_holds_every_package_and_data_file(tmp_path):
    """What ``--setup_file`` builds for remote workers: every package of the tree, every data file."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                    "--wheel-dir", str(tmp_path), str(REPO)], check=True, capture_output=True, timeout=300)
    wheel = next(tmp_path.glob("newsbeam-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    tracked = subprocess.run(["git", "ls-files", *PACKAGES], cwd=REPO, capture_output=True, text=True,
                             check=True).stdout.split()
    missing = [f for f in tracked if not f.endswith((".pyc",)) and f not in names]
    assert missing == []


def test_public_transforms_declare_their_element_types():
    """Every public PTransform of ``transforms`` says what it takes (``with_input_types``; the
    composites that make new elements say what they give)."""
    import importlib
    import inspect

    import apache_beam as beam

    missing = []
    for name in MODULES:
        if not name.startswith("transforms"):
            continue
        module = importlib.import_module(name)
        for attr in getattr(module, "__all__", ()):
            obj = getattr(module, attr, None)
            if inspect.isclass(obj) and issubclass(obj, beam.PTransform) and obj.__module__ == name:
                hints = getattr(obj, "_type_hints", None)  # what beam.typehints.with_*_types set on the class
                declared = hints is not None and (hints.input_types is not None or hints.output_types is not None)
                if not declared:
                    missing.append(f"{name}.{attr}")
    assert missing == []
