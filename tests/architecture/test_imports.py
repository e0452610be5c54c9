"""The import graph of `server/`: each feature owns its tables, and the packages never import each other in a cycle.

A package is a folder of `server/` with an `__init__.py` (a feature such as `dosing`, or the shared `web`), but not
`migrations`. The modules at the top wire the app together and may import any package: `server/__init__.py`,
`cli.py`, `models.py`, and `extensions.py` (whose `init_extensions` imports `models.py`, so the metadata is
complete); `protocol.py` and `config.py` import nothing of the app.

How imports count: every `import` in a module counts, wherever it stands: at the top, inside a function, or under
`if TYPE_CHECKING:`. A function-local import only hides a cycle from Python's import machinery, not from a reader,
so none is allowed between packages that would then import each other.
"""

from __future__ import annotations

import ast
import importlib
import itertools
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from server.extensions import db

ROOT = Path(__file__).resolve().parents[2]
SERVER = ROOT / "server"
PACKAGES = sorted(p.name for p in SERVER.iterdir() if (p / "__init__.py").exists() and p.name != "migrations")

# The records every feature's own rows point at (a trial day's `trial_id`, an author's `user_id`): any feature may
# query these directly, to lock the trial or the day it writes under (the 24-hour rule, a decision's revision) and
# to join them in the fixed-count queries of its lists (the ward, the exports). Every other model is read by its
# own feature only; the others call its read API (e.g. dosing.services.current_doses, trial_doses,
# assessments.services.post_dose_days, decisions.services.decisions_by_day).
SHARED_MODELS = {"trials": {"Patient", "Trial", "TrialDay"}, "auth": {"User"}}
# Modules no other package imports: a feature's pages and its sync handlers are its own.
PRIVATE_MODULES = {"views", "offline"}


@dataclass(frozen=True)
class Import:
    path: Path  # the importing file
    line: int
    source: str  # the importing package
    target: str  # the imported package
    module: str  # the imported module within it ("" for the package itself), e.g. "models"
    names: tuple[str, ...]  # the names imported from it (from-imports only)
    bound: tuple[str, ...] = ()  # the names they are bound to in the importing module (`as` aliases), same order


def _shown(path: Path) -> str:
    return str(path.relative_to(ROOT)) if path.is_relative_to(ROOT) else str(path)


def _module_parts(path: Path, root: Path) -> list[str]:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return parts[:-1] if parts[-1] == "__init__" else parts


def imports_of(path: Path, root: Path = ROOT) -> Iterator[Import]:
    """Every import of another package in this file (under `root`, laid out as this repository), wherever it
    stands."""
    parts = _module_parts(path, root)
    package = parts if path.name == "__init__.py" else parts[:-1]
    source = parts[1] if len(parts) > 1 else ""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        targets: list[tuple[list[str], tuple[str, ...], tuple[str, ...]]] = []
        if isinstance(node, ast.ImportFrom):
            base = package[: len(package) - node.level + 1] if node.level else []
            module = base + (node.module.split(".") if node.module else [])
            names = tuple(a.name for a in node.names)
            bound = tuple(a.asname or a.name for a in node.names)
            if len(module) == 2 and module[0] == "server" and not node.module:  # `from .. import dosing`
                targets += [([*module, name], (), ()) for name in names]
            elif len(module) == 1 and module == ["server"]:  # `from .. import x` at package level
                targets += [(["server", name], (), ()) for name in names]
            elif len(module) == 2 and module[0] == "server":  # `from ..dosing import models`: modules by name
                targets += [([*module, name], (), ()) for name in names]
            else:
                targets.append((module, names, bound))
        elif isinstance(node, ast.Import):
            targets += [(alias.name.split("."), (), ()) for alias in node.names]
        for module, names, bound in targets:
            if len(module) >= 2 and module[0] == "server" and module[1] in PACKAGES and module[1] != source:
                yield Import(path, node.lineno, source, module[1], ".".join(module[2:3]), names, bound)


def all_imports() -> list[Import]:
    files = sorted(p for p in SERVER.rglob("*.py") if "migrations" not in p.relative_to(SERVER).parts[:1])
    return [imp for path in files for imp in imports_of(path) if imp.source in PACKAGES]


def cycles(edges: dict[str, set[str]]) -> list[list[str]]:
    """Each cycle of the graph, as a path a -> ... -> a (one per strongly connected group of packages)."""
    found: list[list[str]] = []
    seen: set[str] = set()
    for start in sorted(edges):
        stack = [(start, [start])]
        while stack:
            node, path = stack.pop()
            for nxt in sorted(edges.get(node, ())):
                if nxt == start:
                    if not seen & set(path):
                        found.append([*path, start])
                        seen.update(path)
                elif nxt not in path:
                    stack.append((nxt, [*path, nxt]))
    return found


def test_no_two_packages_import_each_other_even_through_others() -> None:
    edges: dict[str, set[str]] = defaultdict(set)
    where: dict[tuple[str, str], Import] = {}
    for imp in all_imports():
        edges[imp.source].add(imp.target)
        where.setdefault((imp.source, imp.target), imp)
    problems = []
    for cycle in cycles(edges):
        steps = [where[pair] for pair in itertools.pairwise(cycle)]
        problems.append(" -> ".join(cycle) + ": " + "; ".join(
            f"{_shown(s.path)}:{s.line} imports server.{s.target}" for s in steps))
    assert not problems, "\n".join(problems)
    assert not edges.get("web"), "server/web is shared by every feature and imports none of them"


def _is_mapped_class(package: str, name: str) -> bool:
    obj = getattr(importlib.import_module(f"server.{package}.models"), name, None)
    return isinstance(obj, type) and issubclass(obj, db.Model)


def _used_outside_annotations(path: Path, name: str) -> list[int]:
    """Lines where `name` is used as a value (a query, a constructor, an isinstance), not only as a type hint."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    hints: set[int] = set()
    for node in ast.walk(tree):
        annotations = []
        if isinstance(node, ast.AnnAssign | ast.arg) and node.annotation is not None:
            annotations.append(node.annotation)
        elif isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.returns is not None:
            annotations.append(node.returns)
        hints.update(id(n) for a in annotations for n in ast.walk(a))
    return [node.lineno for node in ast.walk(tree)
            if isinstance(node, ast.Name) and node.id == name and id(node) not in hints]


def model_misuses(imports: list[Import]) -> list[str]:
    problems = []
    for imp in imports:
        if imp.module != "models":
            continue
        if not imp.names:  # the module itself (`from ..dosing import models`): every model in reach, unchecked
            if imp.target not in SHARED_MODELS:
                problems.append(f"{_shown(imp.path)}:{imp.line}: imports server.{imp.target}.models as a module: "
                                f"use server.{imp.target}'s read API")
            continue
        for name, bound in zip(imp.names, imp.bound or imp.names, strict=True):
            if name in SHARED_MODELS.get(imp.target, ()) or name.isupper():
                continue  # a shared record, or a constant (a vocabulary such as TRIAL_STATUSES)
            if _is_mapped_class(imp.target, name):
                lines = _used_outside_annotations(imp.path, bound)
                if not lines:
                    continue  # a type hint only
                what = f"queries {name} (line {', '.join(map(str, sorted(set(lines))))})"
            else:
                what = f"imports {name}, a query helper of {imp.target}'s tables"
            problems.append(f"{_shown(imp.path)}:{imp.line}: {what}: use server.{imp.target}'s read API")
    return problems


def test_each_feature_reads_the_others_tables_only_through_their_read_api() -> None:
    imports = all_imports()
    problems = model_misuses(imports)
    problems += [f"{_shown(imp.path)}:{imp.line}: imports server.{imp.target}.{imp.module}, which is "
                 f"{imp.target}'s own" for imp in imports if imp.module in PRIVATE_MODULES]
    assert not problems, "\n".join(problems)


def test_the_checks_find_a_query_of_another_features_model_and_a_cycle(tmp_path: Path) -> None:
    """The checks themselves: a query through another feature's model is found, a type hint is not; a cycle
    through a function-local import is found."""
    path = tmp_path / "mod.py"
    path.write_text("from __future__ import annotations\n"
                    "def f(x: DoseAdministration) -> DoseAdministration | None:\n"
                    "    y: list[DoseAdministration] = []\n"
                    "    return db.session.scalar(select(DoseAdministration))\n", encoding="utf-8")
    assert _used_outside_annotations(path, "DoseAdministration") == [4]
    hint_only = Import(path, 1, "parents", "dosing", "models", ("DoseAdministration",))
    path.write_text("def f(x: DoseAdministration) -> None:\n    pass\n", encoding="utf-8")
    assert model_misuses([hint_only]) == []
    assert model_misuses([Import(path, 1, "parents", "dosing", "models", ("current_given",))])
    assert model_misuses([Import(path, 1, "parents", "trials", "models", ("Trial", "TRIAL_STATUSES"))]) == []
    path.write_text("def f() -> None:\n    return db.session.scalar(select(D))\n", encoding="utf-8")
    renamed = Import(path, 1, "parents", "dosing", "models", ("DoseAdministration",), ("D",))
    assert model_misuses([renamed]), "a model imported under another name is still found"
    assert model_misuses([Import(path, 1, "parents", "dosing", "models", ())]), "so is the models module itself"
    assert cycles({"trials": {"decisions"}, "decisions": {"dosing"}, "dosing": {"trials"}}) == [
        ["decisions", "dosing", "trials", "decisions"]]
    assert cycles({"trials": {"web"}, "dosing": {"trials", "web"}}) == []
    local = tmp_path / "server" / "dosing" / "views.py"
    local.parent.mkdir(parents=True)
    local.write_text("def page():\n    from ..assessments.instruments import MAS_MAPPINGS\n"
                     "    from ..assessments import models as am\n", encoding="utf-8")
    found = [(i.source, i.target, i.module) for i in imports_of(local, tmp_path)]
    assert found == [("dosing", "assessments", "instruments"), ("dosing", "assessments", "models")]
