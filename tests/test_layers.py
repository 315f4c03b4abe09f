"""Every import of ours runs downward and no modules import each other, read from the source with `ast`.

Layers, lowest first: core < ingest < vectorstore < bot < admin < ui < app < speechqa. A module may import
its own package and any lower one. Every import counts: module-level, function-local and the ones under
`if TYPE_CHECKING:`, since each is a dependency a reader has to follow.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

from tests.support.archives import write
from tests.support.env import REPO

LAYERS = ("core", "ingest", "vectorstore", "bot", "admin", "ui", "app", "speechqa")
RANK = {name: i for i, name in enumerate(LAYERS)}


@dataclass(frozen=True)
class Import:
    source: str  # the importing module, e.g. "bot.qa"
    target: str  # the imported module of ours, e.g. "vectorstore.retrieval"
    where: str  # "bot/qa.py:110"


def module_files(root: Path) -> dict[str, Path]:
    """Dotted module name -> file, for every module of the layered packages under `root` (and app.py)."""
    found: dict[str, Path] = {}
    for top in LAYERS:
        single = root / f"{top}.py"
        if single.is_file():
            found[top] = single
        folder = root / top
        if not folder.is_dir():
            continue
        for path in sorted(folder.rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            if parts[-1] == "__init__":
                parts.pop()
            found[".".join(parts)] = path
    return found


def _resolve(name: str, modules: dict[str, Path]) -> str | None:
    """The module of ours that `name` (a module or a name inside one) belongs to, or None if not ours."""
    parts = name.split(".")
    if parts[0] not in RANK:
        return None
    for end in range(len(parts), 0, -1):
        candidate = ".".join(parts[:end])
        if candidate in modules:
            return candidate
    return None


def imports_of(module: str, path: Path, modules: dict[str, Path], root: Path) -> list[Import]:
    """Every import of one of our modules in `path`, wherever in the file it stands."""
    is_package = path.name == "__init__.py"
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found: list[Import] = []
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: anchored at this module's package
                package = module.split(".") if is_package else module.split(".")[:-1]
                anchor = package[: len(package) - (node.level - 1)]
                base = ".".join([*anchor, *([node.module] if node.module else [])])
            else:
                base = node.module or ""
            # `from pkg import sub` imports the module pkg.sub when there is one, otherwise names of pkg
            names = [f"{base}.{alias.name}" if f"{base}.{alias.name}" in modules else base for alias in node.names]
        for name in names:
            target = _resolve(name, modules)
            if target is not None and target != module:
                found.append(Import(module, target, f"{path.relative_to(root).as_posix()}:{node.lineno}"))
    return list(dict.fromkeys(found))  # `from m import a, b` is one import of m


def all_imports(root: Path) -> list[Import]:
    modules = module_files(root)
    return [imp for name, path in modules.items() for imp in imports_of(name, path, modules, root)]


def upward(imports: list[Import]) -> list[str]:
    """The imports of a higher layer from a lower one, as readable lines."""
    return sorted(f"{i.where}: {i.source} ({i.source.split('.')[0]}) imports {i.target} ({i.target.split('.')[0]})"
                  for i in imports if RANK[i.target.split(".")[0]] > RANK[i.source.split(".")[0]])


def cycles(imports: list[Import]) -> list[list[str]]:
    """Groups of modules that import each other, directly or around a loop (Tarjan's strongly connected
    components of more than one module), each sorted, the groups sorted."""
    graph: dict[str, set[str]] = {}
    for i in imports:
        graph.setdefault(i.source, set()).add(i.target)
        graph.setdefault(i.target, set())
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in sorted(graph[v]):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(groups)


def _describe(group: list[str], imports: list[Import]) -> str:
    members = set(group)
    edges = [f"{i.where} -> {i.target}" for i in imports if i.source in members and i.target in members]
    return f"{' <-> '.join(group)}: " + "; ".join(edges)


# --- the project --------------------------------------------------------------------------------------


def test_every_layer_is_read() -> None:
    modules = module_files(REPO)
    assert {name.split(".")[0] for name in modules} >= {"core", "ingest", "vectorstore", "bot", "app", "speechqa"}
    assert "core.settings" in modules and "app" in modules
    assert len(all_imports(REPO)) > 50  # the walk really sees the imports


def test_no_import_from_a_higher_layer() -> None:
    bad = upward(all_imports(REPO))
    assert not bad, "imports that run upward (core < ingest < vectorstore < bot < admin < ui < app < speechqa):\n" + (
        "\n".join(bad))


def test_no_import_cycle() -> None:
    imports = all_imports(REPO)
    found = cycles(imports)
    assert not found, "modules that import each other:\n" + "\n".join(_describe(g, imports) for g in found)


# --- the checker itself, on a made-up tree ------------------------------------------------------------


def _made_up(root: Path, files: dict[str, str]) -> Path:
    """A tree of `files` (path -> source) under `root`, on top of a core package with one module."""
    for name, text in {"core/__init__.py": "", "core/zh.py": "import os\n", **files}.items():
        write(root, name, text)
    return root


def test_checker_finds_hidden_upward_imports_and_cycles(tmp_path: Path) -> None:
    root = _made_up(tmp_path, {
        "ingest/__init__.py": "from ingest.a import f\n",
        "ingest/a.py": "from core import zh\n\ndef f():\n    from . import b\n",
        "ingest/b.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from ingest.a import f\n",
        "bot/__init__.py": "",
        "bot/qa.py": "import vectorstore.x\n",
        "vectorstore/__init__.py": "",
        "vectorstore/x.py": "def g():\n    from bot.qa import ask\n",
        "app.py": "import ingest\nfrom speechqa import cli\n",
        "speechqa/__init__.py": "",
        "speechqa/cli.py": "import app\n",
    })
    imports = all_imports(root)
    assert {(i.source, i.target) for i in imports} == {  # `import os` is not ours
        ("ingest", "ingest.a"),
        ("ingest.a", "core.zh"),  # `from pkg import module` is an import of the module
        ("ingest.a", "ingest.b"),  # relative, function-local
        ("ingest.b", "ingest.a"),  # under TYPE_CHECKING
        ("bot.qa", "vectorstore.x"),
        ("vectorstore.x", "bot.qa"),
        ("app", "ingest"),
        ("app", "speechqa.cli"),
        ("speechqa.cli", "app"),
    }
    assert upward(imports) == [
        "app.py:2: app (app) imports speechqa.cli (speechqa)",
        "vectorstore/x.py:2: vectorstore.x (vectorstore) imports bot.qa (bot)",
    ]
    assert cycles(imports) == [["app", "speechqa.cli"], ["bot.qa", "vectorstore.x"], ["ingest.a", "ingest.b"]]
