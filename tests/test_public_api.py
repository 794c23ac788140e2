"""The public API and the layering contract.

Layers, each importing only itself and earlier ones: model -> load -> eval -> analysis -> render
-> edit -> serve -> cli. A module never imports another module's private (`_`) names.
"""

import ast
from pathlib import Path

import policy

PKG = Path(policy.__file__).parent
ORDER = ["model", "load", "eval", "analysis", "render", "edit", "serve", "cli"]
TOP = {"__init__": -1, "__main__": len(ORDER), "distributed": ORDER.index("serve")}
"""Top-level modules: the package itself (imports lazily), the entry point, and public faces."""


def module_name(path: Path) -> str:
    parts = path.relative_to(PKG.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def layer_of(module: str) -> int:
    """The layer of `policy.X...`: its package's position in ORDER."""
    parts = module.split(".")
    if len(parts) == 1:
        return -1
    if parts[1] in ORDER:
        return ORDER.index(parts[1])
    return TOP[parts[1]]


def modules() -> list[Path]:
    return sorted(p for p in PKG.rglob("*.py") if "_data" not in p.parts)


def policy_imports(path: Path) -> list[tuple[str, list[str], bool]]:
    """(module, imported names, inside a function?) for every import of a policy module."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    nested = {
        id(n) for f in ast.walk(tree) if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef)) for n in ast.walk(f)
    }
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.split(".")[0] == "policy":
            assert node.level == 0, f"{path}: relative import; use `from policy.<layer>... import`"
            out.append((node.module, [a.name for a in node.names], id(node) in nested))
        elif isinstance(node, ast.ImportFrom) and node.level:
            raise AssertionError(f"{path}:{node.lineno}: relative import; use `from policy.<layer>... import`")
        elif isinstance(node, ast.Import):
            out += [(a.name, [], id(node) in nested) for a in node.names if a.name.split(".")[0] == "policy"]
    return out


def test_every_module_is_in_a_layer():
    for path in modules():
        name = module_name(path)
        assert name == "policy" or name.split(".")[1] in ORDER or name.split(".")[1] in TOP, name


def test_modules_import_only_their_own_or_earlier_layers():
    bad = []
    for path in modules():
        me = module_name(path)
        for dep, _names, _ in policy_imports(path):
            if me != "policy" and layer_of(dep) > layer_of(me):
                bad.append(f"{me} imports {dep}")
    assert bad == []


def test_nothing_imports_the_cli_but_the_entry_point():
    for path in modules():
        me = module_name(path)
        if me.startswith("policy.cli") or me == "policy.__main__":
            continue
        assert all(not dep.startswith("policy.cli") for dep, _, _ in policy_imports(path)), me


def test_no_module_imports_another_modules_private_names():
    bad = []
    for path in modules():
        for dep, names, _ in policy_imports(path):
            bad += [
                f"{module_name(path)}: from {dep} import {n}" for n in names if n.startswith("_") and n != "__version__"
            ]
    assert bad == []


def test_the_checks_see_a_violation(tmp_path):
    """The checks above are not vacuous: an upward import and a private name are both seen."""
    fake = tmp_path / "bad.py"
    fake.write_text("def f():\n    from policy.cli.common import _click\n", encoding="utf-8")
    [(dep, names, nested)] = policy_imports(fake)
    assert layer_of(dep) > layer_of("policy.model.contract") and names == ["_click"] and nested


def test_public_api_names_are_the_library_functions():
    from policy.analysis import diff, whynot
    from policy.eval import compiled, engine
    from policy.load import loader, overlays, scenarios
    from policy.model import Verdict

    expected = {
        "load_rulebase": loader.load_rulebase,
        "load_scenario": scenarios.load_scenario,
        "apply_overlays": overlays.apply_overlays,
        "evaluate": engine.evaluate,
        "Screener": compiled.Screener,
        "diff": diff.diff,
        "timeline": diff.timeline,
        "Verdict": Verdict,
        "why_not": whynot.why_not,
        "__version__": policy.__version__,
    }
    assert set(policy.__all__) == set(expected)
    for name, obj in expected.items():
        assert getattr(policy, name) is obj, name


def test_the_public_api_answers_a_what_if():
    root = PKG.parent
    base = policy.load_rulebase([str(root / "rules")])
    sc = policy.load_scenario(str(root / "scenarios" / "kr" / "kr-ua-155mm-2023.yaml"), base)
    d = policy.evaluate(base, sc)
    assert d.verdict in set(policy.Verdict)


def test_the_model_package_names_each_export_once_in_each_list():
    """policy.model imports on first use: its TYPE_CHECKING imports (for the type checker), its
    table of where each name lives (for the runtime) and __all__ must list the same names."""
    import policy.model as model

    tree = ast.parse((PKG / "model" / "__init__.py").read_text(encoding="utf-8"))
    typed: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("policy.model."):
            typed.update({alias.name: node.module for alias in node.names})
    assert typed == model._WHERE
    assert sorted(model.__all__) == sorted(typed)
    for name, module in typed.items():
        assert getattr(model, name) is getattr(__import__(module, fromlist=[name]), name)
