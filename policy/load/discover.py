"""Finding rule, world, item, overlay and scenario files, and showing their paths."""

from __future__ import annotations

import os
from enum import Enum
from pathlib import Path

from policy.model.errors import Diagnostic, LoadError, SourceSpan

PACKAGE_DIR = Path(__file__).resolve().parent.parent  # the `policy` package
ENV_VAR = "POLICY_RULES"


class RulesOrigin(str, Enum):
    """Where the rules in use were found, in the order they are looked for."""

    option = "--rules"
    env = "POLICY_RULES"
    cwd = "./rules"
    bundled = "bundled"


def bundled_rules_path() -> Path:
    """The rules that ship with the package: ``policy/_data/rules`` when installed from a wheel,
    the repository's ``rules/`` in a source checkout or an editable install."""
    installed = PACKAGE_DIR / "_data" / "rules"
    return installed if installed.is_dir() else PACKAGE_DIR.parent / "rules"


def choose_rules(explicit: list[str] | None = None) -> tuple[list[str], RulesOrigin]:
    """The rule paths to load and why: ``--rules``, else ``$POLICY_RULES``, else ``./rules``, else bundled."""
    if explicit:
        return list(explicit), RulesOrigin.option
    env = os.environ.get(ENV_VAR)
    if env:
        return [env], RulesOrigin.env
    if Path("rules").is_dir():
        return ["rules"], RulesOrigin.cwd
    return [str(bundled_rules_path())], RulesOrigin.bundled


def default_rules_path() -> str:
    """``$POLICY_RULES``, else ``./rules``, else the rules bundled with the package (see rulesource)."""
    return choose_rules()[0][0]


def display_path(path: str | Path) -> str:
    """A path as users should see it: relative to the working directory when inside it."""
    return relative_display(str(path), Path.cwd().resolve())


def yaml_files(paths: list[str]) -> list[str]:
    """Every YAML file under the given files and folders, sorted, each once."""
    return [f for f, _ in shown_yaml_files(paths)]


def shown_yaml_files(paths: list[str]) -> list[tuple[str, str]]:
    """``yaml_files`` with each file as shown (``display_path``), in the same order."""
    found: set[str] = set()
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            for f in p.rglob("*"):
                if f.suffix in (".yaml", ".yml") and f.is_file():
                    found.add(str(f))
        elif p.exists():
            found.add(str(p))
        else:
            raise LoadError([Diagnostic("no-such-path", f"no file or folder `{raw}`", SourceSpan(raw))])
    cwd = Path.cwd().resolve()
    return sorted(((f, relative_display(f, cwd)) for f in found), key=lambda pair: pair[1])


def relative_display(path: str, cwd: Path) -> str:
    """``display_path`` with the working directory already resolved (once, by the caller)."""
    p = Path(path)
    try:
        return str(p.resolve().relative_to(cwd))
    except ValueError:
        return str(p)


def seed_exists(seed: str, file: str) -> bool:
    """Whether a source's seed file exists: beside the working directory, the rule file's parent
    folder, the repository (in a checkout) or the package's bundled data."""
    here = Path(__file__).resolve().parent.parent  # policy/, in a checkout the repository root is its parent
    for base in (Path.cwd(), Path(file).resolve().parent.parent, here.parent, here / "_data"):
        if (base / seed).is_file():
            return True
    return False


def classify(paths: list[str]) -> tuple[list[str], list[str], list[str]]:
    """Sort YAML files by their `format:` line: rule-side files (rules, world, items), overlays, scenarios."""
    rule_paths, overlay_paths, scenario_paths = [], [], []
    for f in yaml_files(paths):
        try:
            with open(f, encoding="utf-8", errors="replace") as fh:
                head = fh.read(4096).splitlines()
        except OSError:
            head = []
        fmt = next((line for line in head if line.startswith("format:")), "")
        if "policy-overlay/" in fmt:
            overlay_paths.append(f)
        elif fmt:
            rule_paths.append(f)
        else:
            scenario_paths.append(f)
    return rule_paths, overlay_paths, scenario_paths
