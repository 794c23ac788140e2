"""Which files a list of rule paths stands for, and how users see them; no YAML parsing here,
so that the rulebase cache (load/cache.py) can list the files without importing the loader."""

from __future__ import annotations

from pathlib import Path

from policy.model.errors import Diagnostic, LoadError, SourceSpan


def display_path(path: str | Path) -> str:
    """A path as users should see it: relative to the working directory when inside it."""
    return relative_display(str(path), Path.cwd().resolve())


def yaml_files(paths: list[str]) -> list[str]:
    """Every YAML file under the given files and folders, sorted, each once."""
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
    return sorted(found, key=lambda f: relative_display(f, cwd))


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
