"""Publishers by tier (rules/sources.yaml) and the links every file cites."""

from __future__ import annotations

from typing import Any, Sequence

from policy.load import yamlio
from policy.load.diagnostics import validate_model
from policy.load.discover import display_path
from policy.model import (
    ContentFarm,
    Publisher,
    SourceTiers,
)
from policy.model.errors import Diagnostic, LoadError, SourceSpan

# ------------------------------------------------------------------ publishers and links (rules/sources.yaml)


def check_source_tiers(docs: list[tuple[SourceTiers, Any]], diags: list[Diagnostic]) -> SourceTiers | None:
    """Merge every publisher-tiers file into one; a host listed twice (in any list, any file) is an error."""
    if not docs:
        return None
    seen: dict[str, SourceSpan] = {}
    publishers, farms = [], []
    for st, doc in docs:
        lists: list[tuple[str, Sequence[Publisher | ContentFarm]]] = [
            ("publishers", st.publishers),
            ("content_farms", st.content_farms),
        ]
        for kind, entries in lists:
            for i, entry in enumerate(entries):
                span = doc.span((kind, i, "host"))
                if entry.host in seen:
                    diags.append(
                        Diagnostic(
                            "duplicate-host",
                            f"host `{entry.host}` is already listed at {seen[entry.host]}",
                            span,
                            "list each host once: in one tier, or as a content farm",
                        )
                    )
                    continue
                seen[entry.host] = span
        publishers.extend(st.publishers)
        farms.extend(st.content_farms)
    return SourceTiers.model_validate({"format": "policy-sources/v1", "publishers": publishers, "content_farms": farms})


def _format_of(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096).splitlines()
    except OSError:
        return ""
    return next((line.split(":", 1)[1].strip() for line in head if line.startswith("format:")), "")


def load_source_tiers(files: list[str]) -> SourceTiers | None:
    """The publisher tiers in those of ``files`` that are `policy-sources/v1` files (merged), or None.

    ``files`` are paths as the rulebase records them (``RuleBase.files``). Raises LoadError on a bad file.
    """
    docs: list[tuple[SourceTiers, Any]] = []
    diags: list[Diagnostic] = []
    for f in files:
        if _format_of(f) != "policy-sources/v1":
            continue
        doc = yamlio.load(f, display_path(f), keep_going=True)
        diags.extend(doc.problems)
        obj = validate_model(SourceTiers, doc, diags)
        if obj is not None:
            docs.append((obj, doc))
    merged = check_source_tiers(docs, diags)
    if diags:
        raise LoadError(diags)
    return merged


def url_links(files: list[str]) -> list[tuple[SourceSpan, str]]:
    """Every `url:` value written in the given YAML files (sources, citations, world and scenario
    sources alike), with the place it is written, in file order. Unreadable files are skipped."""
    out: list[tuple[SourceSpan, str]] = []

    def walk(doc: yamlio.Document, data: Any, loc: tuple[Any, ...]) -> None:
        if isinstance(data, dict):
            for key, value in data.items():
                if key == "url" and isinstance(value, str):
                    out.append((doc.span(loc + (key,)), value))
                else:
                    walk(doc, value, loc + (key,))
        elif isinstance(data, list):
            for i, value in enumerate(data):
                walk(doc, value, loc + (i,))

    for f in files:
        try:
            doc = yamlio.load(f, display_path(f), keep_going=True)
        except LoadError:
            continue
        walk(doc, doc.data, ())
    return out
