"""The HTML reports as a person sees them: rendered by the CLI, opened in headless Chromium.

Used by tests/test_browser.py, and run as a script to refresh the screenshots in docs/:

    python -m tests.browser docs/

Chromium is Debian's package (``apt-get install chromium``), driven by playwright from PyPI with
``executable_path``; ``POLICY_CHROMIUM`` names another binary.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

from typer.testing import CliRunner

from policy.cli import app

ROOT = Path(__file__).resolve().parent.parent
RULES = "rules"  # relative: the reports show the paths as given; run from the repository root

# name -> (CLI arguments, CSS selectors that must be visible at every width)
REPORTS: dict[str, tuple[list[str], list[str]]] = {
    "what-if": (
        ["what-if", "--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--date", "2023-01-30", "--rules", RULES],
        ["h1", ".answer .v.big", "table.jurisdictions", "table.facts", "details[open] summary"],
    ),
    "what-if-chain": (
        [
            "what-if",
            "--exporter",
            "DE",
            "--recipient",
            "UA",
            "--item",
            "ML3",
            "--date",
            "2023-01-30",
            "--transfer",
            "re-export",
            "--origin",
            "CH",
            "--via",
            "PL",
            "--rules",
            RULES,
        ],
        ["h1", ".answer .v.big", "figure.chain", "table.jurisdictions"],
    ),
    "matrix": (
        [
            "matrix",
            "--exporters",
            "KR,DE,NO,CH,JP",
            "--recipients",
            "UA,PL,SA,TW",
            "--item",
            "ML3",
            "--date",
            "2023-01-30",
            "--rules",
            RULES,
        ],
        ["h1", "table.matrix", "table.matrix td.c-restricted", "ul.legend"],
    ),
    "timeline": (
        [
            "timeline",
            "--exporter",
            "DE",
            "--recipient",
            "UA",
            "--item",
            "ML6",
            "--from",
            "2021-01-01",
            "--to",
            "2024-12-31",
            "--rules",
            RULES,
        ],
        ["h1", "figure.chart svg:visible", "table.steps", "ul.legend"],
    ),
    "diff": (
        ["diff", RULES, "--at", "2022-02-01", "--vs", "2022-03-01", "--scenarios", "scenarios/de"],
        ["h1", "table.law", "table.regions", "table.grounded", ".tag-loosening", ".tag-tightening"],
    ),
    "documented": (
        ["test", "scenarios/kr", "scenarios/de", "--documented", "--rules", RULES],
        ["h1", "table.agreement", "table.results", "p.summary"],
    ),
    "coverage": (
        ["test", "scenarios/kr", "scenarios/de", "--coverage", "--rules", RULES],
        ["h1", "table.results", "table.coverage", "p.summary"],
    ),
}
WIDTHS = (1280, 390)


def chromium() -> str:
    """The Chromium binary, or an error saying how to install it (never a skip)."""
    path = os.environ.get("POLICY_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        raise RuntimeError("no chromium: install Debian's package (apt-get install chromium), as .ci/run does")
    return path


def render(name: str, folder: Path) -> Path:
    """Write one report as HTML with the CLI, as a user would (``--format html -o FILE``)."""
    args, _ = REPORTS[name]
    out = folder / f"{name}.html"
    here = os.getcwd()
    os.chdir(ROOT)
    try:
        res = CliRunner().invoke(app, [*args, "--format", "html", "-o", str(out)])
    finally:
        os.chdir(here)
    if res.exit_code not in (0, 1):
        raise RuntimeError(f"policy {' '.join(args)} failed: {res.output}")
    return out


def screenshots(folder: Path) -> list[Path]:
    """Render every report and save a screenshot of each at each width into ``folder``."""
    from playwright.sync_api import sync_playwright

    folder = folder.resolve()
    folder.mkdir(parents=True, exist_ok=True)
    made = []
    tmp = folder / ".html"
    tmp.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium(), args=["--no-sandbox"])
        for name in REPORTS:
            page_file = render(name, tmp)
            for width in WIDTHS:
                page = browser.new_page(viewport={"width": width, "height": 900})
                page.goto(page_file.as_uri())
                shot = folder / f"report-{name}-{width}.png"
                page.screenshot(path=str(shot), full_page=False)
                made.append(shot)
                page.close()
        browser.close()
    shutil.rmtree(tmp)
    return made


if __name__ == "__main__":  # pragma: no cover - a maintenance script
    for f in screenshots(Path(sys.argv[1] if len(sys.argv) > 1 else "docs")):
        print(f)
