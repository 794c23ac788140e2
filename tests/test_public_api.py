"""The public API and the layering contract: models -> loading -> engine -> reports -> CLI."""

import ast
from pathlib import Path

import policy

PKG = Path(policy.__file__).parent
LAYERS = {
    "models": {"errors", "countries", "contract", "models", "facts", "rulebase"},
    "loading": {"yamlio", "loader", "gitrules", "files", "asked", "rulesource"},
    "engine": {
        "derive",
        "conditions",
        "logic",
        "engine",
        "compiled",
        "columnar",
        "diff",
        "cover",
        "lint",
        "testing",
        "worldview",
        "batch",
        "batch_run",
        "catalogue",
        "whynot",
    },
    "reports": {"report", "diffreport", "schema", "cireport", "whynotreport", "render"},
    "editing": {"fmt", "refs", "refactor", "scaffold", "editor", "lsp"},
    "cli": {"cli", "__main__", "server"},
}
ORDER = ["models", "loading", "engine", "reports", "editing", "cli"]


def layer_of(module: str) -> int:
    return next(ORDER.index(layer) for layer, mods in LAYERS.items() if module in mods)


def imports(path: Path) -> set[str]:
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.level == 1 and node.module:
            out.add(node.module.split(".")[0])
    return out


def test_every_module_is_in_a_layer():
    packages = {p.name for p in PKG.iterdir() if (p / "__init__.py").exists()}
    modules = {p.stem for p in PKG.glob("*.py")} - {"__init__"} | packages
    assert modules == set().union(*LAYERS.values())


def test_modules_import_only_earlier_or_same_layers_and_nothing_imports_cli():
    for path in PKG.glob("*.py"):
        if path.stem == "__init__":
            continue
        for dep in imports(path):
            assert dep != "cli" or path.stem == "__main__", f"{path.stem} imports cli"
            assert layer_of(dep) <= layer_of(path.stem), f"{path.stem} ({layer_of(path.stem)}) imports {dep}"


def test_public_api_names_resolve():
    missing = [name for name in policy.__all__ if not hasattr(policy, name)]
    assert policy.__all__ and missing == []
