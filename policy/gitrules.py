"""Rules as they were at a git revision, extracted into a temporary folder (no network)."""

from __future__ import annotations

import io
import subprocess
import tarfile
import tempfile

from .errors import Diagnostic, LoadError, SourceSpan


def rules_at_revision(rev: str, folder: str = "rules") -> str:
    """Extract ``folder`` at revision ``rev`` of the repository in the working directory."""
    try:
        out = subprocess.run(
            ["git", "archive", "--format=tar", rev, folder], capture_output=True, check=False, timeout=60
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise LoadError([Diagnostic("git-failed", f"cannot run git: {exc}", SourceSpan(f"git:{rev}"))]) from None
    if out.returncode != 0:
        msg = out.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["unknown error"]
        raise LoadError(
            [
                Diagnostic(
                    "git-failed",
                    f"cannot read `{folder}/` at `{rev}`: {msg[0]}",
                    SourceSpan(f"git:{rev}"),
                    "give a revision of this repository, e.g. git:HEAD~1",
                )
            ]
        )
    dest = tempfile.mkdtemp(prefix="policy-rules-")
    with tarfile.open(fileobj=io.BytesIO(out.stdout)) as tar:
        tar.extractall(dest, filter="data")
    return f"{dest}/{folder}"
