"""Writing files atomically, with the permissions a normal write would give.

Editing commands (``fmt``, ``rename``, ``new``, ``what-if --save``) never leave a half-written
rule file: the text goes to a temporary file beside the target, which is renamed over it.
"""

from __future__ import annotations

import os
import stat
import tempfile
from pathlib import Path

from .errors import Diagnostic, LoadError, SourceSpan


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | Path, text: str, display: str | None = None) -> None:
    """Write ``text`` (UTF-8, ``\\n`` line ends) to ``path`` through a temp file and a rename.

    An existing file keeps its permission bits; a new one gets 0666 minus the umask, as ``open``
    would give it (``mkstemp`` alone would leave it readable by its owner only).
    """
    target = Path(path)
    shown = display or str(path)
    try:
        mode = stat.S_IMODE(target.stat().st_mode)
    except FileNotFoundError:
        mode = 0o666 & ~_umask()
    except OSError as exc:
        raise _unwritable(shown, exc) from None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    except OSError as exc:
        raise _unwritable(shown, exc) from None
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(text)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except OSError as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise _unwritable(shown, exc) from None
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _unwritable(shown: str, exc: OSError) -> LoadError:
    return LoadError(
        [
            Diagnostic(
                "unwritable-file",
                f"cannot write `{shown}`: {exc.strerror or exc}",
                SourceSpan(shown),
                "check that the folder exists and is writable",
            )
        ]
    )


__all__ = ["write_text_atomic"]
