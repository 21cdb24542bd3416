"""The architecture as a test (CONTRIBUTING.md draws it): imports go down the layers, packages
import each other without cycles, and training is reached only through `phenolab.run`."""

import ast
import pathlib

import phenolab

SRC = pathlib.Path(phenolab.__file__).parent

# Lower number = lower layer. A package may import its own layer or lower ones; `root` is
# phenolab/__init__.py (version, run format, param) and errors.py.
LAYERS = {
    "root": 0,
    "tasks": 1,
    "models": 1,
    "train": 2,
    "measures": 2,
    "interventions": 2,
    "analysis": 2,
    "store": 2,
    "report": 2,
    "config": 3,
    "run": 4,
    "compare": 5,
    "catalog": 5,
    "sweep": 5,
    "judge": 5,
    "io": 5,
    "cli": 6,
}


def package_of(module: str) -> str:
    parts = module.split(".")
    if parts[0] != "phenolab":
        return ""
    if len(parts) == 1 or parts[1] in ("errors", "__main__"):
        return "root" if len(parts) == 1 or parts[1] == "errors" else "cli"
    return parts[1]


def imports() -> list[tuple[str, str, str]]:
    """(importing file, its package, imported module) for every phenolab import, including the
    ones inside functions."""
    out = []
    for path in SRC.rglob("*.py"):
        rel = path.relative_to(SRC.parent).with_suffix("")
        module = ".".join(rel.parts).removesuffix(".__init__")
        package = package_of(module)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "phenolab":
                for a in node.names:  # `from phenolab import interventions` or `... param`
                    sub = (SRC / a.name).is_dir() or (SRC / f"{a.name}.py").exists()
                    out.append((str(rel), package, f"phenolab.{a.name}" if sub else "phenolab"))
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                out.append((str(rel), package, node.module))
            elif isinstance(node, ast.Import):
                out.extend((str(rel), package, a.name) for a in node.names)
    return [(f, p, t) for f, p, t in out if t.startswith("phenolab")]


def test_every_package_has_a_layer():
    packages = {p.name for p in SRC.iterdir() if p.is_dir() and (p / "__init__.py").exists()}
    assert packages <= set(LAYERS), packages - set(LAYERS)
    loose = {p.name for p in SRC.glob("*.py")} - {"__init__.py", "__main__.py", "errors.py"}
    assert not loose, f"modules loose at the package root: {loose}"


# The one upward import allowed: phenolab/__init__.py's lazy `phenolab.load` / `phenolab.watch`,
# which import phenolab.io when first used (never at import time).
FACADE = {("phenolab/__init__", "phenolab.io")}


def test_imports_go_down_the_layers():
    upward = [
        f"{file} ({package}) imports {target}"
        for file, package, target in imports()
        if (file, target) not in FACADE
        and package_of(target) in LAYERS
        and LAYERS[package_of(target)] > LAYERS[package]
        and package_of(target) != "root"
    ]
    assert not upward, "\n".join(upward)


def test_no_import_cycle_between_packages():
    graph: dict[str, set[str]] = {}
    for _, package, target in imports():
        other = package_of(target)
        if other != package and other != "root":
            graph.setdefault(package, set()).add(other)

    def cycle_from(node, path):
        for nxt in sorted(graph.get(node, ())):
            if nxt in path:
                return [*path[path.index(nxt) :], nxt]
            found = cycle_from(nxt, [*path, nxt])
            if found:
                return found
        return None

    for start in graph:
        cycle = cycle_from(start, [start])
        assert cycle is None, " -> ".join(cycle)


def test_training_is_reached_only_through_the_run_package():
    """Above the run layer nothing builds a training loop or reaches into run's modules."""
    inner = ("phenolab.train.loop", "phenolab.run.")
    above = {p for p, level in LAYERS.items() if level > LAYERS["run"]}
    leaks = [
        f"{file} imports {target}"
        for file, package, target in imports()
        if package in above and target.startswith(inner)
    ]
    assert not leaks, "\n".join(leaks)
