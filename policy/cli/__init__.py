"""The ``policy`` command: one thin module per group of verbs over the Python API.

Each verb parses its options, calls one library function and renders the result; the verbs
are registered here, in the order ``policy --help`` lists them.
"""

from __future__ import annotations

import sys

from policy.cli import atlas, catalogue, check, decide, edit, law, serve
from policy.cli.common import app

__all__ = ["app", "run"]

app.command()(decide.evaluate)
app.command("what-if")(decide.what_if)
app.command()(decide.where)
app.command()(check.validate)
app.command()(check.test)
app.command()(check.facts)
app.command()(check.lint)
app.command()(check.sources)
app.command()(check.schema)
app.command()(decide.batch)
app.command()(decide.matrix)
app.command()(law.diff)
app.command()(law.timeline)
app.command()(atlas.atlas)
app.command()(serve.serve)
app.command("fmt")(edit.fmt_command)
app.command()(edit.rename)
app.add_typer(edit.new_app, name="new")
edit.new_app.command("jurisdiction")(edit.new_jurisdiction_command)
app.command()(edit.lsp)
app.command()(catalogue.items)
app.command()(catalogue.countries)
app.command()(catalogue.jurisdictions)
app.command("why-not")(decide.why_not)


def run() -> None:  # pragma: no cover - console entry point
    sys.exit(app())
