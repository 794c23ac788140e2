"""policy: an arms-export policy reasoning engine.

Layers, each importing only those before it: model → load → eval → analysis → render → edit →
serve → cli (docs/architecture.md).
The names below are the public Python API; the `policy` command is a thin layer over them.
"""

__version__ = "0.1.0"

__all__ = [
    "__version__",
    "load_rulebase",
    "load_scenario",
    "apply_overlays",
    "evaluate",
    "Screener",
    "diff",
    "timeline",
    "Verdict",
    "why_not",
]


def __getattr__(name: str):  # type: ignore[no-untyped-def]
    """Import on first use, so that `import policy` (and `policy --help`) stays fast."""
    from importlib import import_module

    where = {
        "load_rulebase": ".load.loader",
        "load_scenario": ".load.scenarios",
        "apply_overlays": ".load.overlays",
        "evaluate": ".eval.engine",
        "Screener": ".eval.compiled",
        "diff": ".analysis.diff",
        "timeline": ".analysis.diff",
        "Verdict": ".model",
        "why_not": ".analysis.whynot",
    }
    if name in where:
        return getattr(import_module(where[name], __name__), name)
    raise AttributeError(f"module 'policy' has no attribute {name!r}")
