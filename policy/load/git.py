"""Rules as they were at a git revision (no network), loaded from a temporary folder that is removed after.

A revision is resolved as a revision only (``git rev-parse --verify --end-of-options``), so a
value such as ``--output=/some/file`` can never reach git as an option.
"""

from __future__ import annotations

import io
import shutil
import subprocess
import tarfile
import tempfile
from typing import TYPE_CHECKING

from policy.model.errors import Diagnostic, LoadError, SourceSpan

if TYPE_CHECKING:
    from policy.model.rulebase import RuleBase


def _git(args: list[str], rev: str) -> bytes:
    try:
        out = subprocess.run(["git", *args], capture_output=True, check=False, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LoadError([Diagnostic("git-failed", f"cannot run git: {exc}", SourceSpan(f"git:{rev}"))]) from None
    if out.returncode != 0:
        msg = out.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["unknown error"]
        raise LoadError(
            [
                Diagnostic(
                    "git-failed",
                    f"cannot read `git:{rev}`: {msg[0]}",
                    SourceSpan(f"git:{rev}"),
                    "give a revision of this repository, e.g. git:HEAD~1",
                )
            ]
        )
    return out.stdout


def resolve_revision(rev: str) -> str:
    """The tree id of ``rev``; anything that is not a revision (an option, an empty string) is refused."""
    if not rev or rev.startswith("-") or any(ch.isspace() or not ch.isprintable() for ch in rev):
        raise LoadError(
            [
                Diagnostic(
                    "bad-revision",
                    f"`git:{rev}` is not a revision",
                    SourceSpan(f"git:{rev}"),
                    "give a commit, branch or tag, e.g. git:HEAD~1",
                )
            ]
        )
    return _git(["rev-parse", "--verify", "--end-of-options", f"{rev}^{{tree}}"], rev).decode().strip()


def load_rules_at_revision(rev: str, folder: str = "rules") -> RuleBase:
    """The rulebase in ``folder`` at revision ``rev`` of the repository in the working directory."""
    from policy.load.loader import load_rulebase

    tree = resolve_revision(rev)
    data = _git(["archive", "--format=tar", tree, "--", folder], rev)
    dest = tempfile.mkdtemp(prefix="policy-rules-")
    try:
        with tarfile.open(fileobj=io.BytesIO(data)) as tar:
            tar.extractall(dest, filter="data")
        return load_rulebase([f"{dest}/{folder}"])
    finally:
        shutil.rmtree(dest, ignore_errors=True)
