"""A plain `policy batch` command line runs without typer (cli/batching.py): same output, messages
and exit code as the typer verb; any other command line is typer's."""

import os
import random
import subprocess
import sys

import pytest

from policy.cli.batching import plain_options

from .conftest import ROOT
from .test_batch_columns import _line

TYPER = "import sys; from policy.cli import app; sys.argv[0] = 'policy'; app()"


def _both(tmp_path, args: list[str], stdin: bytes | None = None) -> list[tuple[int, str, bytes, bytes]]:
    """(exit code, stderr, stdout, output file or b"") of the quick run and of the typer verb."""
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    got = []
    for how in (["-m", "policy"], ["-c", TYPER]):
        out = tmp_path / "out"
        for f in tmp_path.glob("out*"):
            f.unlink()
        res = subprocess.run(
            [sys.executable, *how, *[a.replace("OUT", str(out)) for a in args]],
            input=stdin,
            capture_output=True,
            env=env,
            cwd=tmp_path,
            check=False,
        )
        written = next(iter(sorted(tmp_path.glob("out*"))), None)
        got.append((res.returncode, res.stderr.decode(), res.stdout, written.read_bytes() if written else b""))
    return got


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    rng = random.Random(7)
    path = tmp_path_factory.mktemp("book") / "book.jsonl"
    path.write_text("\n".join(_line(rng, i) for i in range(2000)) + "\n", encoding="utf-8", newline="")
    return path


@pytest.mark.parametrize(
    "args",
    [
        ["batch", "BOOK", "-o", "OUT.jsonl"],
        ["batch", "BOOK", "--output=OUT.csv", "--workers", "2"],
        ["batch", "BOOK", "--strict", "-o", "OUT.jsonl"],
        ["batch", "BOOK", "--partial", "--workers=1"],
        ["batch", "missing.jsonl", "-o", "OUT.jsonl"],
        ["batch", "-", "-o", "OUT.jsonl"],
    ],
)
def test_quick_and_typer_agree(tmp_path, book, args):
    args = [str(book) if a == "BOOK" else a for a in args]
    assert plain_options(args) is not None
    stdin = book.read_bytes() if "-" in args else None
    quick, typer_verb = _both(tmp_path, args, stdin)
    assert quick == typer_verb
    assert quick[0] == 2  # the book has bad lines; the missing file is an error
    if "missing.jsonl" in args:
        assert "missing.jsonl: error[unreadable-file]" in quick[1]
    elif "--strict" in args:
        assert quick[3] == b"" and "1 error" in quick[1]
    else:
        assert "lines read" in quick[1] and quick[2] + quick[3]


@pytest.mark.parametrize(
    "argv",
    [
        ["batch"],
        ["batch", "--help"],
        ["batch", "in.jsonl", "--rules", "rules"],
        ["batch", "in.jsonl", "--with", "o.yaml"],
        ["batch", "in.jsonl", "-o"],
        ["batch", "in.jsonl", "-o", "--strict"],
        ["batch", "in.jsonl", "-oout.jsonl"],
        ["batch", "in.jsonl", "--workers", "-1"],
        ["batch", "in.jsonl", "--workers", "two"],
        ["batch", "in.jsonl", "-o", "a", "--output", "b"],
        ["batch", "in.jsonl", "--strict", "--strict"],
        ["batch", "in.jsonl", "other.jsonl"],
        ["batch", "--", "in.jsonl"],
        ["batch", "in.jsonl", "--input-format", "csv"],
        ["what-if", "in.jsonl"],
    ],
)
def test_other_command_lines_are_typers(argv):
    assert plain_options(argv) is None


def test_typer_reads_what_quick_declines(tmp_path, book):
    """A declined command line still works (typer reads it): here with `--rules`."""
    quick, typer_verb = _both(tmp_path, ["batch", str(book), "--rules", str(ROOT / "rules"), "-o", "OUT.jsonl"])
    assert quick == typer_verb and quick[0] == 2 and quick[3]
