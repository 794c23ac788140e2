"""Running a batch: reading the input in chunks, the worker pool, the output and interruption.

``policy.batch`` knows how to check and screen one line; this module runs a whole input:
- lines are read as bytes and decoded in the chunk that screens them, so a line that is not
  UTF-8 is a bad line like any other and every physical line is accounted for;
- a pipe streams: each chunk is what the producer has written so far, so
  ``tail -f orders.jsonl | policy batch -`` answers line by line (one process); a file is read in
  slices of whole lines and, when large and a core is idle (``default_workers``), screened on
  both cores, each worker reading its own slices;
- each chunk is screened by column (``policy.eval.batch_columns``) where it can, the rest line by
  line in its place: the output is the same either way;
- Parquet in (batches of rows) and out (an Arrow table per chunk) need the ``columnar`` extra;
- CSV rows are one physical line each: a malformed quote spoils only its own line;
- the output goes to a temporary file renamed over the target at the end (``policy.files``);
  Ctrl-C stops the workers and writes nothing, or with ``partial`` the finished prefix.

Over 500 lines because files, pipes, the worker pool and interruption are one run whose every
path must account for every input line and leave no partial output.
"""

from __future__ import annotations

import csv
import json
import os
import select
import signal
import stat
import sys
import threading
from collections import deque
from dataclasses import dataclass, field
from functools import partial
from typing import IO, TYPE_CHECKING, Any, BinaryIO, Callable, Iterator, NamedTuple

from policy.eval.batch import CSV_FIELDS, OUT_FIELDS, BatchScreener, LineError, Transfer, format_record, result_record
from policy.eval.batch_memo import RuleFiles, memo_for
from policy.eval.batch_rules import RulesBeside, RulesHere
from policy.load.atomic import AtomicFile
from policy.model.errors import Diagnostic, LoadError, SourceSpan

if TYPE_CHECKING:
    from policy.model.rulebase import RuleBase

CHUNK_LINES = 2000
PARALLEL_BYTES = 1 << 20


@dataclass
class Tally:
    """What happened to the input's lines: ``read == screened + bad + blank`` at the end."""

    read: int = 0
    screened: int = 0
    bad: int = 0
    blank: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)

    def summary(self, unit: str = "lines") -> str:
        text = f"{self.read} {unit} read: {self.screened} screened, {self.bad} bad"
        return text + (f", {self.blank} blank" if self.blank else "")

    def count(
        self,
        screened: int,
        blank: int,
        errors: list[tuple[int, str, str]],
        strict: bool,
        on_error: Callable[[int, str, str], None],
    ) -> None:
        """Account for one screened chunk, in input order: its lines, then each bad line reported
        (with ``strict``, the first one ends the run)."""
        self.screened += screened
        self.blank += blank
        self.bad += len(errors)
        self.read = self.screened + self.bad + self.blank
        for n, code, msg in errors:
            if strict:
                raise StrictStop(n, code, msg)
            on_error(n, code, msg)


class Interrupted(Exception):
    """Ctrl-C during a batch: how far it got, and whether the finished prefix was written."""

    def __init__(self, tally: Tally, written: bool) -> None:
        super().__init__("interrupted")
        self.tally = tally
        self.written = written


class StrictStop(Exception):
    """``strict``: the first bad line ends the run (nothing is written)."""

    def __init__(self, line: int, code: str, message: str) -> None:
        super().__init__(message)
        self.line, self.code, self.message = line, code, message


# ------------------------------------------------------------------ reading


def _chunks_streaming(fd: int, stop: threading.Event) -> Iterator[list[tuple[int, bytes]]]:
    """Lines as the producer writes them: each chunk is every complete line one read returned."""
    n = 0
    rest = b""
    while True:
        while not select.select([fd], [], [], 0.2)[0]:
            if stop.is_set():
                raise KeyboardInterrupt
        data = os.read(fd, 1 << 16)
        if not data:
            break
        parts = (rest + data).split(b"\n")
        rest = parts.pop()
        if parts:
            chunk = []
            for p in parts:
                n += 1
                chunk.append((n, p))
            yield chunk
    if rest:
        yield [(n + 1, rest)]


def _chunks_lines(fh: BinaryIO) -> Iterator[list[tuple[int, bytes]]]:
    """Chunks of lines from a stream with no file descriptor (an in-memory stream)."""
    chunk: list[tuple[int, bytes]] = []
    for n, line in enumerate(fh, 1):
        chunk.append((n, line.rstrip(b"\n")))
        if len(chunk) >= CHUNK_LINES:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


SLICE_BYTES = 1 << 18


def _slices(fd: int, start: int, size: int, slice_bytes: int = SLICE_BYTES) -> Iterator[tuple[int, int, int]]:
    """(first line number, offset, length) of consecutive whole-line slices of a regular file.

    Workers read their slice themselves (``os.pread`` on the inherited descriptor), so the pool
    passes three numbers per task, never the data: a large task stuck in a pipe is what can hang
    ``multiprocessing.Pool.terminate`` when Ctrl-C stops a run.
    """
    off, n = start, 1
    while off < size:
        want = slice_bytes
        while True:
            block = os.pread(fd, want, off)
            cut = block.rfind(b"\n")
            if cut >= 0 or off + len(block) >= size or not block:
                break
            want *= 2  # one line longer than a slice: read on to its end
        length = cut + 1 if cut >= 0 and off + len(block) < size else len(block)
        if not length:
            return
        yield n, off, length
        n += block.count(b"\n", 0, length)
        off += length


def _decode(n: int, raw: bytes) -> str:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise LineError(f"not UTF-8 text (byte {exc.start + 1})", "bad-encoding") from None
    if n == 1:
        text = text.lstrip("\ufeff")  # a byte-order mark, as spreadsheet exports write
    return text.rstrip("\r")


def csv_header(name: str, raw: bytes) -> list[str]:
    """The CSV header's column names; an unknown or repeated column is an error in the whole file."""
    try:
        cells = next(csv.reader([_decode(1, raw)], strict=True), [])
    except (LineError, csv.Error) as exc:
        raise LoadError([Diagnostic("bad-csv", f"unreadable CSV header: {exc}", SourceSpan(name, 1))]) from None
    header = [c.strip() for c in cells]
    for col in header:
        if col not in CSV_FIELDS or header.count(col) > 1:
            why = "repeated" if col in CSV_FIELDS else "unknown"
            raise LoadError(
                [
                    Diagnostic(
                        "unknown-field",
                        f"{why} column `{col}` in the CSV header",
                        SourceSpan(name, 1),
                        f"columns: {', '.join(CSV_FIELDS)}",
                    )
                ]
            )
    return header


def _row(text: str, header: list[str]) -> dict[str, str]:
    try:
        cells = next(csv.reader([text], strict=True))
    except csv.Error as exc:
        raise LineError(f"malformed CSV: {exc}", "bad-csv") from None
    if len(cells) != len(header):
        raise LineError(f"{len(cells)} cells where the header has {len(header)}", "bad-csv")
    return dict(zip(header, cells))  # an empty cell is given but empty: `date` then is a bad date


# ------------------------------------------------------------------ screening a chunk


def screen_chunk(
    chunk: list[tuple[int, bytes]], bs: BatchScreener, header: list[str] | None, out_fmt: str
) -> tuple[str, int, int, list[tuple[int, str, str]]]:
    """(output text, screened, blank, [(line, code, message)]) for one chunk of raw lines."""
    out: list[str] = []
    errors: list[tuple[int, str, str]] = []
    blank = 0
    for n, raw in chunk:
        try:
            text = _decode(n, raw)
            if not text.strip():
                blank += 1
                continue
            if header is not None:
                data: Any = _row(text, header)
            else:
                try:
                    data = json.loads(text)
                except json.JSONDecodeError as exc:
                    raise LineError(f"invalid JSON: {exc.msg} (column {exc.colno})", "bad-json") from None
            t = bs.check(data)
        except LineError as exc:
            errors.append((n, exc.code, str(exc)))
            continue
        out.append(_record(n, t, bs, out_fmt))
    return "".join(out), len(out), blank, errors


def screen_records(
    items: list[tuple[int, Any]], bs: BatchScreener, out_fmt: str
) -> tuple[str, int, int, list[tuple[int, str, str]]]:
    """The per-line path for transfers already read as mappings (Parquet rows)."""
    out: list[str] = []
    errors: list[tuple[int, str, str]] = []
    for n, data in items:
        try:
            t = bs.check(data)
        except LineError as exc:
            errors.append((n, exc.code, str(exc)))
            continue
        out.append(_record(n, t, bs, out_fmt))
    return "".join(out), len(out), 0, errors


def _record(n: int, t: Transfer, bs: BatchScreener, out_fmt: str) -> str:
    s, tail = bs.screen(t)
    if out_fmt == "jsonl":
        tid = t.id
        ident = str(tid) if type(tid) is int else json.dumps(tid, ensure_ascii=False, separators=(",", ":"))
        return f'{{"line":{n},"id":{ident},{tail}\n'
    return format_record(result_record(n, t, s), out_fmt)


def line_format(out_fmt: str) -> str:
    """The per-line path's output format (Parquet output is built from its JSON Lines)."""
    return "jsonl" if out_fmt == "parquet" else out_fmt


def _lines_path(header: list[str] | None, line_fmt: str, bs: BatchScreener, chunk: list[tuple[int, bytes]]) -> Any:
    return screen_chunk(chunk, bs, header, line_fmt)


def rules_here(bs: BatchScreener | Callable[[], BatchScreener], header: list[str] | None, out_fmt: str) -> RulesHere:
    """The rules' answers in this process, ``bs`` built when first needed if given as a function."""
    make = (lambda: bs) if isinstance(bs, BatchScreener) else bs
    return RulesHere(make, partial(_lines_path, header, line_format(out_fmt)))


class ChunkScreener:
    """Screens a chunk of raw lines (line ``n0`` first): by column when it can, else line by line.

    Both give the same output (``tests/test_batch_columns.py``); ``columnar=False`` forces the
    per-line path. Parquet output (``out_fmt == "parquet"``) is an Arrow table per chunk.
    """

    def __init__(
        self,
        bs: BatchScreener | Callable[[], BatchScreener],
        header: list[str] | None,
        in_fmt: str,
        out_fmt: str,
        columnar: bool,
        learned: Any = None,
        rules: Any = None,
    ) -> None:
        """``bs`` may be a function that builds it, called when a line first needs it; ``learned``, a
        ColumnarScreener kept from an earlier run (``policy.eval.batch_memo``), is used in place of
        a new one; ``rules`` (a ``batch_rules.RulesBeside``) answers what the columns ask of the rules,
        else they are answered here."""
        self.header, self.out_fmt = header, out_fmt
        self.line_fmt = line_format(out_fmt)
        self.rules: RulesHere | RulesBeside = rules if rules is not None else rules_here(bs, header, out_fmt)
        self.columns: Any = None
        self.decoder: Any = None
        self.columnar = columnar
        if columnar or "parquet" in (in_fmt, out_fmt):
            from policy.eval import batch_columns as bc

            cs = learned if learned is not None else bc.ColumnarScreener(rules=self.rules, text=header is not None)
            cs.use_rules(self.rules)
            if in_fmt == "csv" and header is not None and cs.usable:
                self.columns, self.decoder = cs, bc.CsvLines(header)
            elif in_fmt == "jsonl" and cs.usable and msgspec_available():
                self.columns, self.decoder = cs, bc.JsonLines()
            if "parquet" in (in_fmt, out_fmt):
                self.columns = cs
            if not columnar:
                self.decoder = None

    @property
    def bs(self) -> BatchScreener:
        return self.rules.bs

    def per_line(self, chunk: list[tuple[int, bytes]]) -> tuple[str, int, int, list[tuple[int, str, str]]]:
        return screen_chunk(chunk, self.bs, self.header, self.line_fmt)

    def per_lines(self, lines: list[tuple[int, bytes]]) -> list[tuple[str, int, int, list[tuple[int, str, str]]]]:
        """The per-line path for each of ``lines`` on its own (asked of the rules, maybe beside)."""
        return self.rules.ask("per_line", lines) if lines else []

    def per_record(self, items: list[tuple[int, Any]]) -> tuple[str, int, int, list[tuple[int, str, str]]]:
        return screen_records(items, self.bs, self.line_fmt)

    def per_records(self, items: list[tuple[int, Any]]) -> list[tuple[str, int, int, list[tuple[int, str, str]]]]:
        return [self.per_record([item]) for item in items]

    def records(self, n0: int, rows: Any, cols: Any) -> tuple[Any, int, int, list[Any]]:
        """A batch of Parquet rows (row ``n0`` first) as columns ``cols``."""
        from policy.eval import batch_columns as bc

        if not self.columnar:
            cols = bc.Columns(list(range(0)), [], [], [], [], [], [], [], [], list(range(len(rows))))
        if self.out_fmt == "parquet":
            return bc.chunk_table(self.columns, n0, rows, cols, self.per_records)
        return self.columns.chunk(n0, rows, cols, self.out_fmt, self.per_records)  # type: ignore[no-any-return]

    def __call__(self, n0: int, lines: list[bytes], blob: bytes | None = None) -> tuple[Any, int, int, list[Any]]:
        from policy.eval import batch_columns as bc

        if self.decoder is None:
            cols = bc.Columns(list(range(0)), [], [], [], [], [], [], [], [], list(range(len(lines))))
        elif isinstance(self.decoder, bc.CsvLines):
            cols = self.decoder.columns(n0, lines)
        else:
            cols = self.decoder.columns(b"\n".join(lines) if blob is None else blob, lines)
        if self.out_fmt == "parquet":
            return bc.chunk_table(self.columns, n0, lines, cols, self.per_lines)
        if self.decoder is None:
            return self.per_line([(n0 + i, raw) for i, raw in enumerate(lines)])
        return self.columns.chunk(n0, lines, cols, self.out_fmt, self.per_lines)  # type: ignore[no-any-return]


_WORKER: list[Any] = []
"""The forked worker's (chunk screener, file descriptor), inherited from the parent at fork."""


def _init_worker(args: tuple[Any, ...]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent handles Ctrl-C and stops the pool
    _WORKER[:] = [args]


def _screen_slice(cs: ChunkScreener, fd: int, sl: tuple[int, int, int]) -> tuple[Any, int, int, list[Any]]:
    n, off, length = sl
    blob = os.pread(fd, length, off)
    from policy.eval.batch_columns import json_lines

    return cs(n, json_lines(n, blob), blob)


def _worker_slice(sl: tuple[int, int, int]) -> tuple[Any, int, int, list[Any]]:
    cs, fd = _WORKER[0]
    return _screen_slice(cs, fd, sl)


# ------------------------------------------------------------------ the run


@dataclass
class BatchJob:
    """One batch run: where to read, where to write, and how."""

    input: str  # a path, or "-" for standard input
    output: str | None  # a path, or None for standard output
    in_fmt: str = "jsonl"  # jsonl, csv or parquet
    out_fmt: str = "jsonl"  # jsonl, csv or parquet
    strict: bool = False
    workers: int = 0  # 0: what is fastest for the input's size (see `default_workers`)
    partial: bool = False
    stdin: BinaryIO | None = None
    stdout: IO[str] | None = None
    columnar: bool = True  # False: every line on the per-line path (same output, slower)


def default_workers(size: int, columnar: bool, learning: bool = False, warm: bool = False) -> int:
    """Processes for an input of ``size`` bytes: what was fastest on 2 cores (``benchmarks/run.py``),
    two only when a core is idle (``idle_core``).

    A ``learning`` run (one that keeps what it learns for the next and starts with nothing learned,
    ``policy.eval.batch_memo``) runs in one process, so that all it learns is kept: the first run
    over new rules is slower above 4 MiB (1M lines: 2.84 s against 2.29 s with two processes), the
    runs after it faster (1M lines, warm: 2.06 s with two processes, 2.44 s with one).

    The columnar path: two processes above 4 MiB. Each worker learns the meanings it meets (the
    first slices cost most), but the lines split: at 100k lines (11 MiB) two took 0.64 s wall
    against one's 0.72 s, at 1M lines 3.29 s against 3.87 s; at 10k lines (1.1 MiB) one was
    faster (0.41-0.46 s against 0.47-0.54 s) and at 26k lines (3 MiB) they were even (load 0.9).
    The per-line path: two processes above 1 MiB.
    """
    if learning or not idle_core():
        return 1
    if warm and columnar:
        return 2 if size > WARM_PARALLEL_BYTES else 1
    return 2 if size > (COLUMNAR_PARALLEL_BYTES if columnar else PARALLEL_BYTES) else 1


def idle_core(loadavg: str = "/proc/loadavg") -> bool:
    """Whether a second core is idle: the kernel's count of tasks running at this moment (this one
    included) leaves one free, or the one-minute load average does. The moment alone can catch a
    task that is just starting another; the average alone stays near 1 on two cores through a run
    of commands one after another (a script, the benchmarks) while one of the cores is idle."""
    cores = os.cpu_count() or 1
    if cores < 2:
        return False
    try:
        with open(loadavg, encoding="ascii") as fh:
            running = int(fh.read().split()[3].split("/")[0])
        if cores - running >= 1:
            return True
    except (OSError, ValueError, IndexError):
        pass
    try:
        return cores - os.getloadavg()[0] >= 1
    except OSError:  # no load average on this system
        return True


def msgspec_available() -> bool:
    """Whether JSON Lines can be decoded by column (msgspec, the ``columnar`` extra)."""
    try:
        import msgspec  # noqa: F401
    except ImportError:
        return False
    return True


def _by_column(job: BatchJob) -> bool:
    """Whether the job's lines will be screened by column (the columns' decoders are at hand), as
    ``ChunkScreener`` will choose; known before it is built, to choose the workers first."""
    if not job.columnar or job.in_fmt == "parquet":
        return False
    return job.in_fmt == "csv" or msgspec_available()


WARM_PARALLEL_BYTES = 32 << 20
COLUMNAR_PARALLEL_BYTES = 4 << 20
COLUMNAR_SLICE_BYTES = 1 << 20
PARQUET_ROWS = 65_536


def _needs(name: str, what: str) -> LoadError:
    return LoadError(
        [
            Diagnostic(
                "missing-extra",
                f"{what} needs pyarrow",
                SourceSpan(name),
                "install the columnar extra: pip install 'policy[columnar]'",
            )
        ]
    )


class Input(NamedTuple):
    """A batch's input, opened: ``regular`` files are read by offset (``size`` bytes); other
    streams (a pipe, a FIFO) are streamed through their descriptor, ``fd`` False for an in-memory
    stream without one (tests, embedding)."""

    src: BinaryIO
    size: int
    regular: bool
    fd: bool


def open_input(job: BatchJob) -> Input:
    """The job's input (standard input is the job's ``stdin`` or the process's); an unreadable path
    is a LoadError naming it."""
    if job.input == "-":
        src: BinaryIO = job.stdin or sys.stdin.buffer
    else:
        try:
            src = open(job.input, "rb")
        except OSError as exc:
            raise LoadError(
                [Diagnostic("unreadable-file", f"cannot read: {exc.strerror}", SourceSpan(job.input))]
            ) from None
    try:
        info: os.stat_result | None = os.fstat(src.fileno())
    except (OSError, ValueError, AttributeError):
        info = None
    regular = info is not None and stat.S_ISREG(info.st_mode)
    return Input(src, info.st_size if info is not None and regular else 0, regular, info is not None)


def ctrl_c_flag() -> tuple[threading.Event, Any]:
    """(a flag Ctrl-C sets, the handler it replaces, to restore; None off the main thread).

    Ctrl-C only sets the flag: a run stops between chunks, where stopping its workers is safe (a
    KeyboardInterrupt raised inside a pool's machinery can leave it hanging).
    """
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        return stop, None
    return stop, signal.signal(signal.SIGINT, lambda *_: stop.set())


def _screener_of(rules: RuleFiles, text: bool) -> BatchScreener:
    return BatchScreener(rules.load(), text=text)


def run_batch(
    base: RuleBase | RuleFiles,
    job: BatchJob,
    on_error: Callable[[int, str, str], None] = lambda n, code, msg: None,
    on_progress: Callable[[Tally, float | None], None] | None = None,
) -> Tally:
    """Screen every line of ``job.input``; report bad lines through ``on_error`` as they come.

    Given ``RuleFiles`` rather than a loaded rulebase, the rules are loaded only if a line needs
    them: what earlier runs over the same rules learned is kept (``policy.eval.batch_memo``).

    Raises :class:`StrictStop` (with ``strict``) or :class:`Interrupted` (Ctrl-C); in either
    case no output file is left unless ``partial`` asked for the finished prefix.
    """
    name = "<stdin>" if job.input == "-" else job.input
    if job.out_fmt == "parquet" and not job.output:
        raise LoadError(
            [Diagnostic("bad-option", "Parquet output needs a file", SourceSpan(name), "give -o out.parquet")]
        )
    if "parquet" in (job.in_fmt, job.out_fmt):
        try:
            import pyarrow.parquet  # type: ignore[import-untyped,unused-ignore]  # noqa: F401
        except ImportError:
            raise _needs(name, "Parquet") from None
    if job.input == "-" and job.in_fmt == "parquet":
        raise LoadError(
            [Diagnostic("bad-option", "Parquet input must be a file", SourceSpan(name), "give the file's path")]
        )
    src, size, regular, has_fd = open_input(job)
    stop, previous = ctrl_c_flag()
    tally = Tally()
    target: AtomicFile | None = None
    writer: Any = None
    pool: Any = None
    beside: RulesBeside | None = None
    try:
        header: list[str] | None = None
        read_to = [0]
        parquet_in: Any = None
        if job.in_fmt == "parquet":
            parquet_in = parquet_reader(name, src)
        elif regular:
            fd = src.fileno()
            start = os.lseek(fd, 0, os.SEEK_CUR)
            first_line = 1
            if job.in_fmt == "csv":
                head = os.pread(fd, SLICE_BYTES, start).split(b"\n", 1)[0]
                if head.strip():
                    header = csv_header(name, head)
                    start += len(head) + 1
                    first_line = 2
            want = COLUMNAR_SLICE_BYTES if job.columnar else SLICE_BYTES

            def slices() -> Iterator[tuple[int, int, int]]:
                for n, off, length in _slices(fd, start, size, want):
                    read_to[0] = off + length
                    yield n + first_line - 1, off, length

        else:
            chunks = _chunks_streaming(src.fileno(), stop) if has_fd else _chunks_lines(src)
            first = next(chunks, [])
            if job.in_fmt == "csv" and first:
                header = csv_header(name, first[0][1])
                first = first[1:]
            chunks = _prepend(first, chunks)
        target = AtomicFile(job.output) if job.output else None
        out = target.handle if target else (job.stdout or sys.stdout)
        if job.out_fmt == "csv":
            out.write(",".join(OUT_FIELDS) + "\n")
        if job.out_fmt == "parquet":
            import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

            from policy.eval.batch_columns import OUT_SCHEMA

            assert target is not None
            writer = pq.ParquetWriter(target.tmp, OUT_SCHEMA())
        text = header is not None
        memo, warm = None, False
        if isinstance(base, RuleFiles):
            bs: BatchScreener | Callable[[], BatchScreener] = partial(_screener_of, base, text)
            memo = memo_for(base, text) if job.columnar else None
            warm = memo is not None and memo.current()
        else:
            bs = BatchScreener(base, text=text)
        by_column = _by_column(job)
        n_workers = job.workers or default_workers(size, by_column, memo is not None and not warm, warm)
        if warm and by_column and n_workers == 1 and idle_core():
            # forked before the columns' modules (numpy) load: the rules load beside, in case a line
            # needs them. Not for a cold batch: it asks them about most lines, and measured slower
            # with a helper (alternated runs: 10k lines 0.32 s against 0.30 s, 100k 0.62 s against 0.60 s).
            beside = RulesBeside(rules_here(bs, header, job.out_fmt))
        learned = memo.read() if memo is not None and warm else None
        cs = ChunkScreener(bs, header, job.in_fmt, job.out_fmt, job.columnar, learned, beside)
        if n_workers > 1 and learned is None:
            cs.bs  # noqa: B018 - built before the workers fork, so that each inherits it
        results: Iterator[tuple[Any, int, int, list[Any]]]
        if parquet_in is not None:
            results = _parquet_results(parquet_in, cs, read_to)
            size = parquet_in.rows
        elif n_workers > 1 and regular:
            import multiprocessing as mp

            pool = mp.get_context("fork").Pool(n_workers, initializer=_init_worker, initargs=((cs, fd),))
            results = _ordered(pool, slices(), 2 * n_workers, stop)
        elif regular:
            results = (_screen_slice(cs, fd, sl) for sl in slices())
        else:
            results = (cs(c[0][0], [raw for _, raw in c]) for c in chunks if c)
        for text, screened, blank, errors in results:
            if stop.is_set():
                raise KeyboardInterrupt
            if writer is not None:
                writer.write_table(text)
            else:
                out.write(text)
                if target is None:
                    out.flush()
            tally.count(screened, blank, errors, job.strict, on_error)
            if on_progress:
                on_progress(tally, read_to[0] / size if size else None)
        if pool is not None:
            pool.close()
            pool.join()
            pool = None
        elif memo is not None and cs.columns is not None and cs.columns.dirty:
            memo.write(cs.columns)  # what this run learned, for the next
        if writer is not None:
            writer.close()
            writer = None
        if target:
            target.commit()
            target = None
        return tally
    except KeyboardInterrupt:
        if pool is not None:
            pool.terminate()
            pool.join()
            pool = None
        written = False
        if target is not None and job.partial:
            if writer is not None:
                writer.close()
                writer = None
            target.commit()
            target, written = None, True
        raise Interrupted(tally, written) from None
    finally:
        if beside is not None:
            beside.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if pool is not None:
            pool.terminate()
            pool.join()
        if writer is not None:
            writer.close()
        if target is not None:
            target.discard()
        if job.input != "-":
            src.close()


def parquet_reader(name: str, src: BinaryIO) -> Any:
    """A Parquet input: its columns are checked as a CSV header is (an unknown column is an error)."""
    from policy.eval.batch_columns import ParquetInput

    try:
        return ParquetInput(name, src)
    except LoadError:
        raise
    except Exception as exc:  # pyarrow's errors for a file that is not Parquet
        raise LoadError(
            [Diagnostic("bad-parquet", f"unreadable Parquet file: {exc}", SourceSpan(name), "check the file")]
        ) from None


def _parquet_results(pin: Any, cs: ChunkScreener, read_to: list[int]) -> Iterator[tuple[Any, int, int, list[Any]]]:
    for n0, rows, cols in pin.batches(PARQUET_ROWS):
        read_to[0] = n0 - 1 + len(rows)
        yield cs.records(n0, rows, cols)


def _prepend(
    first: list[tuple[int, bytes]], rest: Iterator[list[tuple[int, bytes]]]
) -> Iterator[list[tuple[int, bytes]]]:
    if first:
        yield first
    yield from rest


def _ordered(pool: Any, tasks: Iterator[tuple[int, int, int]], window: int, stop: threading.Event) -> Iterator[Any]:
    """Results in input order with at most ``window`` chunks in flight, so memory stays flat."""
    pending: deque[Any] = deque()

    def next_result() -> Any:
        head = pending.popleft()
        while not head.ready():
            if stop.is_set():
                raise KeyboardInterrupt
            head.wait(0.1)
        return head.get()

    for task in tasks:
        if stop.is_set():
            raise KeyboardInterrupt
        pending.append(pool.apply_async(_worker_slice, (task,)))
        if len(pending) >= window:
            yield next_result()
    while pending:
        yield next_result()
