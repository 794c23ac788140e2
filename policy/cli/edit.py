"""Verbs that edit rule files: fmt, rename, new, lsp."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Optional

import typer

from policy.cli.common import default_rules_path, guarded
from policy.model.errors import LoadError

if TYPE_CHECKING:
    pass


@guarded
def fmt_command(
    paths: Optional[list[str]] = typer.Argument(None, help="Files or folders (default: rules/ and scenarios/)."),
    check: bool = typer.Option(False, "--check", help="Write nothing; list files that would change, exit 1 if any."),
) -> None:
    """Rewrite rule, world, item, overlay and scenario files in the canonical style, keeping comments."""
    from policy.edit.fmt import format_paths

    targets = list(paths) if paths else [p for p in (default_rules_path(), "scenarios") if Path(p).exists()]
    result = format_paths(targets, check=check)
    for f in result.changed:
        typer.echo(f"would reformat {f}" if check else f"reformatted {f}")
    n, m = len(result.changed), len(result.unchanged)
    verb = "would be reformatted" if check else "reformatted"
    typer.echo(f"{n} file{'s' if n != 1 else ''} {verb}, {m} unchanged", err=True)
    if result.errors:
        raise LoadError(result.errors)
    if check and result.changed:
        raise typer.Exit(1)


@guarded
def rename(
    old: str = typer.Argument(..., help="The rule id to rename."),
    new: str = typer.Argument(..., help="Its new id (same jurisdiction prefix)."),
    paths: Optional[list[str]] = typer.Option(
        None, "--in", metavar="PATH", help="Folders or files to update (repeatable; default: rules/ and scenarios/)."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="List the changes without writing."),
) -> None:
    """Rename a rule id and every reference to it across rules, overlays and scenarios, keeping comments."""
    from policy.edit.refactor import rename_rule

    targets = list(paths) if paths else [p for p in (default_rules_path(), "scenarios") if Path(p).exists()]
    result = rename_rule(old, new, targets, write=not dry_run)
    for f, n in sorted(result.files.items()):
        typer.echo(f"{f}: {n} place{'s' if n != 1 else ''}")
    total = sum(result.files.values())
    typer.echo(
        f"{'would rename' if dry_run else 'renamed'} `{old}` to `{new}` in {total} places, {len(result.files)} files"
    )


new_app = typer.Typer(no_args_is_help=True, help="Scaffolding: start a new file.")


@guarded
def new_jurisdiction_command(
    code: str = typer.Argument(..., help="ISO 3166-1 alpha-2 code (or a regime id with --regime)."),
    regime: bool = typer.Option(False, "--regime", help="A regime (UN, EU, MTCR...) rather than a state."),
    name: Optional[str] = typer.Option(None, "--name", help="Name (default: the country's name)."),
    folder: str = typer.Option("rules", "--rules", help="Rules folder to write into."),
) -> None:
    """Write rules/<code>.yaml: the header and one general licensing rule to fill in."""
    from policy.edit.scaffold import new_jurisdiction

    target = new_jurisdiction(code, folder, regime, name)
    typer.echo(f"wrote {target}: fill in the TODOs, then `policy validate {target}`")


def lsp() -> None:
    """Run the language server over stdio (for editors; see docs/editors.md)."""
    try:
        from policy.serve.lsp import serve
    except ImportError as exc:
        typer.echo(f"error: the language server needs pygls ({exc.name}): pip install 'policy[edit]'", err=True)
        raise typer.Exit(2) from None
    serve()
