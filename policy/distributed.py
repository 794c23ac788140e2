"""Screening on a distributed engine: Dask, Spark, or anything that maps a function over frames.

Where an order book outgrows one machine, the same screening as ``policy batch`` runs on the
workers of an existing engine. Three ways in (docs/distributed.md has the recipes):

- :class:`FrameScreener` is a partition function: a pandas DataFrame (or an Arrow table or record
  batch) with the columns of a ``policy batch`` line in, the columns of its output out. It pickles
  as the rulebase (compressed), and each worker process compiles the rules once and keeps them,
  so it suits ``dask.dataframe.map_partitions``, Spark's ``mapInPandas``/``mapInArrow`` and
  ``multiprocessing`` alike;
- :func:`screen_dask` maps it over a Dask DataFrame, with line numbers over the whole frame;
- :func:`dask_batch` runs ``policy batch`` itself on a Dask cluster (``policy batch --dask
  tcp://host:8786`` or ``--dask local:2``): the client reads the input, workers parse, check and
  screen slices of lines with the code that screens them locally, and the output, bad-line
  reports and summary are the same, byte for byte.

Input columns (a subset; the names of ``policy batch``): ``id``, ``date``, ``exporter``,
``recipient``, ``item`` (an ML category or a catalogue id), ``end_user``, ``transfer``,
``lethal``, ``origin``, ``licence``, ``via``, ``transit``, and optionally ``line``. A missing
value (None, NaN, NA) is a field not given. Values are read by the transfer contract, as in a CSV
cell: dates ``YYYY-MM-DD`` (a date value, or a timestamp at midnight without a time zone, is taken
as its day), flags ``true``/``false`` or booleans, ``via``/``transit`` lists or codes separated by
``;``. Any other column is an error (select the transfer's columns first).

Output columns, as ``policy batch -o out.csv`` writes them: ``line`` (the ``line`` column, else the
row's position from ``first_line``), ``id`` (as given), ``verdict``, ``jurisdictions``
(``KR/exporter=restricted;UN/regime=permitted``), ``deciding_rules`` (ids separated by ``;``), and
``error`` (``code: message`` for a row that fails the contract, whose verdict is then missing;
missing otherwise). The index is the input's. Dask, pandas and pyarrow come with the ``dask``
extra (``pip install 'policy[dask]'``); this module imports them only when used.

Over 500 lines because it is the whole distributed face: the partition function, the frame
conversions both ways, and `batch --dask` with the same bad-line reports as `policy batch`.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import importlib
import io
import json
import logging
import os
import pickle
import signal
import sys
import threading
import zlib
from collections import deque
from typing import IO, Any, BinaryIO, Callable, Iterable, Iterator

from policy.eval.batch import CSV_FIELDS, OUT_FIELDS, BatchScreener, LineError
from policy.eval.batch_run import BatchJob, Interrupted, Tally, csv_header, ctrl_c_flag, open_input, screen_chunk
from policy.load.atomic import AtomicFile
from policy.model.errors import Diagnostic, LoadError
from policy.model.rulebase import RuleBase

__all__ = [
    "INPUT_COLUMNS",
    "OUTPUT_COLUMNS",
    "PortableRules",
    "FrameScreener",
    "screen_dask",
    "jsonl_lines",
    "csv_lines",
    "connect",
    "dask_batch",
    "run_batch_dask",
]

INPUT_COLUMNS = [*CSV_FIELDS, "line"]
"""The columns a frame may have: a ``policy batch`` line's fields, and ``line``."""
OUTPUT_COLUMNS = [*OUT_FIELDS, "error"]
"""The columns of a screened frame: ``policy batch``'s output and ``error``."""

_FIELDS = frozenset(CSV_FIELDS)
_ALLOWED = frozenset(INPUT_COLUMNS)
_TEXT_COLUMNS = ("verdict", "jurisdictions", "deciding_rules", "error")


# ------------------------------------------------------------------ rules that travel


class PortableRules:
    """A rulebase that travels to workers as compressed bytes and is compiled once per worker thread.

    Pickling carries ``key`` (a digest of the pickled rulebase) and the bytes; a worker that has
    already compiled rules with that key reuses them without unpickling the bytes again. Built on
    the client from a loaded rulebase (rule files, overlays and all), so workers need the
    ``policy`` package but not the rule files.
    """

    def __init__(self, base: RuleBase) -> None:
        data = pickle.dumps(base, protocol=pickle.HIGHEST_PROTOCOL)
        self.key = hashlib.sha256(data).hexdigest()[:32]
        self.blob = zlib.compress(data, 1)
        self._base: RuleBase | None = base

    def __dask_tokenize__(self) -> str:
        return self.key

    def __getstate__(self) -> dict[str, Any]:
        return {"key": self.key, "blob": self.blob}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.key, self.blob, self._base = state["key"], state["blob"], None

    @property
    def base(self) -> RuleBase:
        """The rulebase (unpickled on first use where the handle has travelled)."""
        if self._base is None:
            self._base = pickle.loads(zlib.decompress(self.blob))  # noqa: S301 - our own bytes, from the client
        return self._base

    def batch_screener(self, text: bool = True) -> BatchScreener:
        """This thread's screener for these rules (``text``: CSV cell semantics), built on first use."""
        cache: dict[tuple[str, bool], BatchScreener] | None = getattr(_LOCAL, "screeners", None)
        if cache is None:
            cache = _LOCAL.screeners = {}
        bs = cache.get((self.key, text))
        if bs is None:
            if len(cache) >= 4:
                cache.clear()
            bs = cache[(self.key, text)] = BatchScreener(self.base, text=text)
        return bs


_LOCAL = threading.local()


def _need(module: str) -> Any:
    """An optional dependency of the ``dask`` extra, or a LoadError saying how to install it."""
    try:
        return importlib.import_module(module)
    except ImportError:
        raise LoadError(
            [
                Diagnostic(
                    "missing-extra",
                    f"screening on Dask, Spark or frames needs `{module}`, which is not installed",
                    help="pip install 'policy[dask]'",
                )
            ]
        ) from None


def _portable(rules: RuleBase | PortableRules | None) -> PortableRules:
    if isinstance(rules, PortableRules):
        return rules
    if rules is None:
        from policy.load.loader import load_rulebase

        rules = load_rulebase()
    return PortableRules(rules)


# ------------------------------------------------------------------ frames


class FrameScreener:
    """A partition function: screens a pandas DataFrame, an Arrow table or an Arrow record batch.

    ``rules`` is a loaded rulebase (``policy.load_rulebase``, with ``policy.apply_overlays`` for
    what-ifs on the law); None loads the rules ``policy`` would use here. ``first_line`` numbers
    the rows of a frame without a ``line`` column. ``strict`` raises ``ValueError`` at the first
    row that fails the contract instead of reporting it in the ``error`` column.

    >>> import pandas as pd
    >>> screen = FrameScreener()
    >>> out = screen(pd.DataFrame({"date": ["2023-01-30"], "exporter": ["KR"], "recipient": ["UA"], "item": ["ML3"]}))
    >>> out.loc[0, "verdict"], out.loc[0, "jurisdictions"].split(";")[0]
    ('restricted', 'KR/exporter=restricted')
    """

    def __init__(
        self, rules: RuleBase | PortableRules | None = None, first_line: int = 1, strict: bool = False
    ) -> None:
        self.rules = _portable(rules)
        self.first_line = first_line
        self.strict = strict

    def __call__(self, frame: Any) -> Any:
        """The screened frame, of the same kind as ``frame`` (pandas, Arrow table or record batch)."""
        pd = _need("pandas")
        if isinstance(frame, pd.DataFrame):
            return self.pandas(frame)
        pa = _need("pyarrow")

        for kind in (pa.RecordBatch, pa.Table):
            if isinstance(frame, kind):
                # the columns as Arrow has them (pandas metadata from elsewhere can fail to convert back)
                out = self.pandas(frame.to_pandas(ignore_metadata=True))
                id_type = frame.schema.field("id").type if "id" in frame.schema.names else pa.string()
                schema = pa.schema(
                    [("line", pa.int64()), ("id", id_type), *((name, pa.string()) for name in _TEXT_COLUMNS)]
                )
                return kind.from_pandas(out, schema=schema, preserve_index=False).replace_schema_metadata(None)
        raise TypeError(f"expected a pandas DataFrame or an Arrow table or record batch, got {type(frame).__name__}")

    def arrow_batches(self, batches: Iterable[Any]) -> Iterator[Any]:
        """Screened Arrow record batches, one per batch: the shape Spark's ``mapInArrow`` wants."""
        for batch in batches:
            yield self(batch)

    def pandas_frames(self, frames: Iterable[Any]) -> Iterator[Any]:
        """Screened pandas frames, one per frame: the shape Spark's ``mapInPandas`` wants."""
        for frame in frames:
            yield self.pandas(frame)

    def pandas(self, frame: Any) -> Any:
        """Screen a pandas DataFrame (see the module's documentation for the columns)."""
        pd = _need("pandas")

        unknown = sorted(str(c) for c in frame.columns if c not in _ALLOWED)
        if unknown:
            raise ValueError(
                f"unknown column `{unknown[0]}`: a transfer frame has the columns {', '.join(INPUT_COLUMNS)} "
                "(select them first)"
            )
        n = len(frame)
        names = [c for c in frame.columns if c in _FIELDS]
        columns = [_python_values(frame[c]) for c in names]
        if "line" in frame.columns:
            lines = [int(v) for v in frame["line"].tolist()]
        else:
            lines = list(range(self.first_line, self.first_line + n))
        verdicts: list[str | None] = []
        juris: list[str | None] = []
        rules: list[str | None] = []
        errors: list[str | None] = []
        bs = self.rules.batch_screener(text=True)
        shown: dict[str, tuple[str, str, str]] = {}
        for i, row in enumerate(zip(*columns) if columns else ((),) * n):
            d = {k: v for k, v in zip(names, row) if v is not None}
            try:
                t = bs.check(d)
            except LineError as exc:
                if self.strict:
                    raise ValueError(f"line {lines[i]}: error[{exc.code}]: {exc}") from None
                verdicts.append(None)
                juris.append(None)
                rules.append(None)
                errors.append(f"{exc.code}: {exc}")
                continue
            s, tail = bs.screen(t)
            text = shown.get(tail)
            if text is None:
                text = shown[tail] = (
                    s.verdict.value,
                    ";".join(f"{c}/{r}={v.value}" for c, r, v in s.jurisdictions),
                    ";".join(s.deciding_rules),
                )
            verdicts.append(text[0])
            juris.append(text[1])
            rules.append(text[2])
            errors.append(None)
        index = frame.index
        ids = frame["id"].to_numpy() if "id" in frame.columns else [None] * n
        out = pd.DataFrame(
            {
                "line": pd.Series(lines, index=index, dtype="int64"),
                "id": pd.Series(ids, index=index, dtype=frame["id"].dtype if "id" in frame.columns else object),
                **{
                    name: pd.Series(values, index=index, dtype=object)
                    for name, values in zip(_TEXT_COLUMNS, (verdicts, juris, rules, errors))
                },
            },
            index=index,
        )
        return out


def _python_values(col: Any) -> list[Any]:
    """A column as Python values for the contract: None where missing, lists for list cells."""
    import numpy as np

    pd = _need("pandas")

    missing = col.isna().tolist()
    if isinstance(col.dtype, np.dtype) and col.dtype.kind == "M":
        # a datetime column: a timestamp at midnight is its day; any other stays a timestamp (bad-date)
        midnight = (col.dt.normalize() == col).tolist()
        days = col.dt.strftime("%Y-%m-%d").tolist()
        values = [d if m else v for d, m, v in zip(days, midnight, col.astype(object).tolist())]
    elif isinstance(col.dtype, pd.DatetimeTZDtype):
        values = col.astype(object).tolist()
    else:
        values = col.tolist()
    out: list[Any] = []
    for v, gone in zip(values, missing):
        if gone:
            out.append(None)
        elif isinstance(v, (list, tuple, np.ndarray)):
            out.append([x.item() if isinstance(x, np.generic) else x for x in v])
        elif isinstance(v, pd.Timestamp) and v.tzinfo is None and v == v.normalize():
            out.append(v.date().isoformat())
        elif isinstance(v, dt.datetime) and v.tzinfo is None and v.time() == dt.time(0):
            out.append(v.date().isoformat())
        elif isinstance(v, np.generic):
            out.append(v.item())
        else:
            out.append(v)
    return out


def screen_dask(frame: Any, rules: RuleBase | PortableRules | None = None) -> Any:
    """A Dask DataFrame of screenings for a Dask DataFrame of transfers (lazy; ``.compute()`` it).

    Rows are numbered 1, 2, ... over the whole frame unless it has a ``line`` column.
    """
    screener = FrameScreener(rules)
    if "line" not in frame.columns:
        frame = frame.assign(line=1)
        frame = frame.assign(line=frame["line"].cumsum())
    meta = screener.pandas(frame._meta)
    return frame.map_partitions(screener, meta=meta)


def jsonl_lines(frame: Any) -> Iterator[str]:
    """A screened pandas frame as ``policy batch``'s JSON Lines (byte for byte); rows with an error are left out."""
    for line, ident, verdict, juris, rules, error in zip(
        *(frame[c].tolist() for c in ("line", "id", "verdict", "jurisdictions", "deciding_rules", "error"))
    ):
        if error is not None:
            continue
        if ident is not None and ident != ident:  # NaN: no id
            ident = None
        ident_text = str(ident) if type(ident) is int else json.dumps(ident, ensure_ascii=False, separators=(",", ":"))
        pairs = ",".join(f'"{k}":"{v}"' for k, _, v in (p.partition("=") for p in juris.split(";") if p))
        ids = ",".join(f'"{r}"' for r in rules.split(";") if r)
        yield (
            f'{{"line":{line},"id":{ident_text},"verdict":"{verdict}",'
            f'"jurisdictions":{{{pairs}}},"deciding_rules":[{ids}]}}\n'
        )


# ------------------------------------------------------------------ policy batch on a Dask cluster

BLOCK_BYTES = 2 << 20
"""Bytes of whole lines per Dask task."""
CONNECT_TIMEOUT = "10s"
"""How long to try reaching a Dask scheduler."""


def connect(address: str) -> tuple[Any, Any]:
    """(client, cluster or None) for ``tcp://host:8786`` (any Dask address) or ``local:N`` (N local processes).

    Raises LoadError when Dask is not installed or the scheduler cannot be reached.
    """
    distributed = _need("distributed")
    Client, LocalCluster = distributed.Client, distributed.LocalCluster
    if address == "local" or address.startswith("local:"):
        count = address.partition(":")[2] or str(os.cpu_count() or 1)
        if not count.isdigit() or int(count) < 1:
            raise LoadError(
                [Diagnostic("bad-option", f"--dask: `{address}` is not local:N with N ≥ 1", help="e.g. --dask local:2")]
            )
        cluster = LocalCluster(
            n_workers=int(count),
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address="127.0.0.1:0",  # any free port: the scheduler serves HTTP even without a dashboard
            silence_logs=logging.CRITICAL,  # workers racing the scheduler's shutdown log errors that mean nothing
        )
        return Client(cluster, set_as_default=False), cluster
    if "://" not in address:
        raise LoadError(
            [
                Diagnostic(
                    "bad-option",
                    f"--dask: `{address}` is not a scheduler address",
                    help="give tcp://host:8786 (a running dask scheduler) or local:N",
                )
            ]
        )
    try:
        return Client(address, timeout=CONNECT_TIMEOUT, set_as_default=False), None
    except (OSError, TimeoutError) as exc:
        raise LoadError(
            [
                Diagnostic(
                    "dask-unreachable",
                    f"--dask: cannot reach the Dask scheduler at `{address}`: {exc}",
                    help="start one with `dask scheduler` and workers with `dask worker ADDRESS`",
                )
            ]
        ) from None


def _screen_block(
    rules: PortableRules, first: int, block: bytes, header: list[str] | None, out_fmt: str
) -> tuple[str, int, int, list[tuple[int, str, str]]]:
    """On a worker: screen a block of whole lines whose first is line ``first``, as ``policy batch`` does."""
    parts = block.split(b"\n")
    if parts and parts[-1] == b"":
        parts.pop()
    bs = rules.batch_screener(text=header is not None)
    return screen_chunk([(first + i, p) for i, p in enumerate(parts)], bs, header, out_fmt)


def _blocks(src: BinaryIO, first: int, rest: bytes) -> Iterator[tuple[int, bytes]]:
    """(first line number, whole lines) in blocks of about BLOCK_BYTES; ``rest`` was read already."""
    n = first
    while True:
        data = src.read(BLOCK_BYTES)
        if not data:
            if rest:
                yield n, rest  # the last line may lack its newline
            return
        rest += data
        cut = rest.rfind(b"\n") + 1
        if cut == 0:
            continue  # one line longer than a block: read on to its end
        block, rest = rest[:cut], rest[cut:]
        yield n, block
        n += block.count(b"\n")


def run_batch_dask(
    base: RuleBase,
    job: BatchJob,
    address: str,
    on_error: Callable[[int, str, str], None] = lambda n, code, msg: None,
    on_progress: Callable[[Tally, float | None], None] | None = None,
) -> Tally:
    """``run_batch`` on a Dask cluster: the same output, bad-line reports and tally, in input order.

    The client reads ``job.input`` in blocks of whole lines and writes the output atomically;
    the workers decode, check and screen each block. ``job.workers`` is not used (the cluster
    decides). Raises StrictStop and Interrupted as ``run_batch`` does.
    """
    name = "<stdin>" if job.input == "-" else job.input
    src, size, _, _ = open_input(job)  # read in blocks as a stream, whatever it is
    stop, previous = ctrl_c_flag()
    tally = Tally()
    target: AtomicFile | None = None
    client = cluster = None
    pending: deque[Any] = deque()
    try:
        header: list[str] | None = None
        first, rest, skipped = 1, b"", 0
        if job.in_fmt == "csv":
            rest = src.read(BLOCK_BYTES)
            while b"\n" not in rest:
                more = src.read(BLOCK_BYTES)
                if not more:
                    break
                rest += more
            head, nl, rest = rest.partition(b"\n")
            if head.strip():
                header = csv_header(name, head)
                first, skipped = 2, len(head) + 1
            else:
                rest = head + nl + rest
        client, cluster = connect(address)
        target = AtomicFile(job.output) if job.output else None
        out: IO[str] = target.handle if target else (job.stdout or sys.stdout)
        if job.out_fmt == "csv":
            out.write(",".join(OUT_FIELDS) + "\n")
        rules = client.scatter(PortableRules(base), broadcast=True)
        window = 2 * max(len(client.scheduler_info().get("workers", {})), 1) + 1
        done = [skipped]  # bytes screened so far (the header counts as done)

        def drain() -> None:
            future, length = pending.popleft()
            while True:
                if stop.is_set():
                    raise KeyboardInterrupt
                try:
                    text, screened, blank, errors = future.result(timeout=0.2)
                    break
                except TimeoutError:
                    continue
            out.write(text)
            if target is None:
                out.flush()
            tally.count(screened, blank, errors, job.strict, on_error)
            done[0] += length
            if on_progress:
                on_progress(tally, done[0] / size if size else None)

        for n, block in _blocks(src, first, rest):
            if stop.is_set():
                raise KeyboardInterrupt
            future = client.submit(_screen_block, rules, n, block, header, job.out_fmt, pure=False)
            pending.append((future, len(block)))
            if len(pending) >= window:
                drain()
        while pending:
            drain()
        if target:
            target.commit()
            target = None
        return tally
    except KeyboardInterrupt:
        written = False
        if target is not None and job.partial:
            target.commit()
            target, written = None, True
        raise Interrupted(tally, written) from None
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
        if client is not None:
            for future, _ in pending:
                future.cancel()
            client.close()
        if cluster is not None:
            cluster.close()
        if target is not None:
            target.discard()
        if job.input != "-":
            src.close()


def dask_batch(address: str) -> Callable[..., Tally]:
    """A ``run_batch`` that screens on the Dask cluster at ``address`` (see :func:`connect`)."""

    def run(base: RuleBase, job: BatchJob, *args: Any, **kwargs: Any) -> Tally:
        return run_batch_dask(base, job, address, *args, **kwargs)

    return run


def csv_lines(frame: Any) -> Iterator[str]:
    """A screened pandas frame as ``policy batch -o out.csv`` rows (without the header); error rows left out."""
    for row in zip(*(frame[c].tolist() for c in (*OUT_FIELDS, "error"))):
        if row[-1] is not None:
            continue
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(["" if v is None else v for v in row[:-1]])
        yield buf.getvalue()
