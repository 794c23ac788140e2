"""Reports for continuous integration: SARIF and GitHub workflow annotations for ``validate`` and
``lint``, JUnit XML for ``test``; so a rule change is reviewed in the pull request that makes it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from policy import __version__
from policy.analysis.testing import TestResult
from policy.model.errors import Diagnostic

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
_SARIF_LEVEL = {"error": "error", "warning": "warning"}  # anything else is a note
_GITHUB_LEVEL = {"error": "error", "warning": "warning"}  # anything else is a notice


def _uri(file: str) -> str:
    """A file as SARIF and GitHub want it: relative to the working directory, with forward slashes."""
    p = Path(file)
    if p.is_absolute():
        try:
            p = p.resolve().relative_to(Path.cwd().resolve())
        except ValueError:
            return p.as_posix()
    return p.as_posix()


def sarif(diagnostics: list[Diagnostic], command: str) -> dict[str, Any]:
    """A SARIF 2.1.0 log of the diagnostics, one result each (GitHub code scanning reads it)."""
    rules: dict[str, dict[str, Any]] = {}
    results = []
    for d in sorted(diagnostics, key=Diagnostic.sort_key):
        rules.setdefault(d.code, {"id": d.code, "shortDescription": {"text": d.code.replace("-", " ")}})
        result: dict[str, Any] = {
            "ruleId": d.code,
            "level": _SARIF_LEVEL.get(d.severity, "note"),
            "message": {"text": d.message + (f" (help: {d.help})" if d.help else "")},
        }
        if d.span and d.span.file:
            loc: dict[str, Any] = {"artifactLocation": {"uri": _uri(d.span.file)}}
            if d.span.line:
                loc["region"] = {"startLine": d.span.line, "startColumn": max(d.span.col, 1)}
            result["locations"] = [{"physicalLocation": loc}]
        results.append(result)
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": f"policy {command}",
                        "version": __version__,
                        "rules": sorted(rules.values(), key=lambda r: r["id"]),
                    }
                },
                "results": results,
            }
        ],
    }


def _escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github(diagnostics: list[Diagnostic]) -> str:
    """GitHub Actions workflow commands: each diagnostic becomes an annotation on its file and line.

    >>> from policy.model.errors import SourceSpan
    >>> print(github([Diagnostic("bad-date", "not a date: 2023-13-01", SourceSpan("rules/kr.yaml", 4, 7))]), end="")
    ::error file=rules/kr.yaml,line=4,col=7,title=policy bad-date::not a date: 2023-13-01
    """
    lines = []
    for d in sorted(diagnostics, key=Diagnostic.sort_key):
        props = []
        if d.span and d.span.file:
            props.append(f"file={_escape_property(_uri(d.span.file))}")
            if d.span.line:
                props += [f"line={d.span.line}", f"col={max(d.span.col, 1)}"]
        props.append(f"title={_escape_property('policy ' + d.code)}")
        message = d.message + (f"\nhelp: {d.help}" if d.help else "")
        lines.append(f"::{_GITHUB_LEVEL.get(d.severity, 'notice')} {','.join(props)}::{_escape_data(message)}")
    return "".join(line + "\n" for line in lines)


def diagnostics_json(diagnostics: list[Diagnostic]) -> str:
    return json.dumps([d.to_json() for d in sorted(diagnostics, key=Diagnostic.sort_key)], indent=2) + "\n"


def junit(results: list[TestResult], seconds: dict[str, float] | None = None) -> str:
    """JUnit XML for scenario tests: one test case per scenario, a failure for each unmet expectation."""
    seconds = seconds or {}
    failed = sum(1 for r in results if not r.passed)
    suites = ET.Element("testsuites", name="policy test", tests=str(len(results)), failures=str(failed))
    suite = ET.SubElement(
        suites,
        "testsuite",
        name="scenarios",
        tests=str(len(results)),
        failures=str(failed),
        errors="0",
        skipped="0",
        time=f"{sum(seconds.values()):.3f}",
    )
    for r in results:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=r.file,
            name=r.scenario.id,
            file=r.file,
            time=f"{seconds.get(r.scenario.id, 0.0):.3f}",
        )
        if not r.passed:
            failure = ET.SubElement(case, "failure", message="; ".join(r.problems), type="verdict-mismatch")
            failure.text = (
                f"expected {r.scenario.expect.value if r.scenario.expect else '-'}, "
                f"got {r.decision.verdict.value}; deciding rules: {', '.join(r.deciding_rules) or '-'}"
            )
        out = ET.SubElement(case, "system-out")
        out.text = f"{r.scenario.title}\nverdict: {r.decision.verdict.value}"
    ET.indent(suites)
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(suites, encoding="unicode") + "\n"
