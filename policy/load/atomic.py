"""Writing the files a user asked for: atomically, with normal permissions, or not at all.

A report or a batch output is written to a temporary file beside the target and renamed over
it only when complete, so an interrupted or failed run never leaves half a file (nor a stray
temporary one). The file gets the permissions any new file would get under the user's umask.
"""

from __future__ import annotations

import os
import stat
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

from policy.model.errors import Diagnostic, LoadError, SourceSpan


def _refuse(path: str, why: str, hint: str) -> LoadError:
    return LoadError([Diagnostic("unwritable-file", f"cannot write `{path}`: {why}", SourceSpan(path), hint)])


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class AtomicFile:
    """A temporary file beside ``path``; :meth:`commit` renames it over ``path``, :meth:`discard` removes it.

    An existing file keeps its permission bits; a new one gets 0666 minus the umask, as ``open``
    would give it (``mkstemp`` alone would leave it readable by its owner only).
    """

    def __init__(self, path: str | Path, display: str | None = None, durable: bool = True) -> None:
        """``durable=False``: no fsync before the rename, for a file whose reader can tell a torn one
        (a cache entry with its checksum); still all of it lands or none, for every other process."""
        self.durable = durable
        target = Path(path)
        path = display or str(path)
        if target.is_dir():
            raise _refuse(path, "it is a folder", "give a file name, e.g. out.jsonl")
        try:
            self.mode = stat.S_IMODE(target.stat().st_mode)
        except FileNotFoundError:
            self.mode = 0o666 & ~_umask()
        except OSError as exc:
            raise _refuse(path, exc.strerror or str(exc), "check the path and its permissions") from None
        self.target = target
        try:
            fd, self.tmp = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".", prefix=f".{target.name}.")
        except OSError as exc:
            raise _refuse(path, exc.strerror or str(exc), "check that the folder exists and is writable") from None
        self.path = path
        self.handle: IO[str] = os.fdopen(fd, "w", encoding="utf-8", newline="")

    def commit(self) -> None:
        try:
            self.handle.flush()
            if self.durable:
                os.fsync(self.handle.fileno())
            self.handle.close()
            os.chmod(self.tmp, self.mode)
            os.replace(self.tmp, self.target)
        except OSError as exc:
            self.discard()
            raise _refuse(self.path, exc.strerror or str(exc), "check the path and its permissions") from None

    def discard(self) -> None:
        if not self.handle.closed:
            self.handle.close()
        try:
            os.unlink(self.tmp)
        except FileNotFoundError:
            pass


@contextmanager
def atomic_writer(path: str | Path, display: str | None = None) -> Iterator[IO[str]]:
    """``with atomic_writer(p) as fh: fh.write(...)``: all of it lands at ``p``, or nothing does."""
    f = AtomicFile(path, display)
    try:
        yield f.handle
    except BaseException:
        f.discard()
        raise
    f.commit()


def write_text(path: str | Path, text: str, display: str | None = None) -> None:
    """Write ``text`` to ``path`` atomically (``display``: the path as error messages show it)."""
    with atomic_writer(path, display) as fh:
        fh.write(text)


def output_folder(path: str) -> Path:
    """A folder to write several files into (created if missing); an existing file is refused."""
    p = Path(path)
    if p.exists() and not p.is_dir():
        raise LoadError(
            [
                Diagnostic(
                    "unwritable-file", f"cannot write into `{path}`: it is a file", SourceSpan(path), "give a folder"
                )
            ]
        )
    try:
        p.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise _refuse(path, exc.strerror or str(exc), "check that the folder can be created") from None
    return p
