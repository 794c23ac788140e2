"""What a columnar batch asks of the rules, answered in this process or by a helper beside it.

A :class:`~policy.eval.batch_columns.ColumnarScreener` knows from its own tables everything it has
met before; for anything new it asks (``ask(question, keys)``, one call for all the new keys of a
chunk): an item's category, a state's world-data breaks, a line's signatures and the days that
matter to it, the exporter's and the recipient's world facts, a meaning's result, and the per-line
path for a line the columns cannot take. Every answer is plain data.

``RulesHere`` answers in the process, building the batch screener (loading the rules) at the
first question. ``RulesBeside`` asks the same ``RulesHere`` in a helper process forked as the
batch starts, which loads the rules on the other core while this one reads and decodes: a warm
batch (``batch_memo``) that meets something new then need not stop for the rules to load (~80 ms).
A question the helper cannot answer (it failed, or the question raised) is asked again here, which
gives the answer or raises the error as a batch without a helper would. The answers are the same
code either way (``tests/test_batch_rules.py``).
"""

from __future__ import annotations

import os
import signal
from typing import TYPE_CHECKING, Any, Callable

from policy.eval.batch import BatchScreener, LineError, screening_tail, transfer_scenario

if TYPE_CHECKING:
    from multiprocessing.connection import Connection

PerLine = Callable[[BatchScreener, list[tuple[int, bytes]]], Any]
"""The per-line path for raw lines with a screener: (output text, screened, blank, errors)."""


class RulesHere:
    """The answers, computed in this process; the screener is built when first needed."""

    def __init__(self, make: Callable[[], BatchScreener], per_line: PerLine | None = None) -> None:
        self._make = make
        self._bs: BatchScreener | None = None
        self._relevance: Any = None
        self._per_line_path = per_line

    @property
    def bs(self) -> BatchScreener:
        if self._bs is None:
            self._bs = self._make()
        return self._bs

    @property
    def relevance(self) -> Any:
        if self._relevance is None:
            from policy.eval.batch_meaning import Relevance

            self._relevance = Relevance(self.bs)
        return self._relevance

    def ask(self, question: str, keys: list[Any]) -> list[Any]:
        answer = getattr(self, f"_{question}")
        return [answer(k) for k in keys]

    def _item(self, v: Any) -> tuple[str, str | None, bool | None] | None:
        try:
            return self.bs.checker.item(v)
        except LineError:
            return None

    def _breaks(self, code: str) -> list[int]:
        return [d.toordinal() for d in self.bs.screener.builder.breaks.get(code, [])]

    def _slots(self, _: Any) -> int:
        """How many world-data intervals the country with the most breaks has."""
        return max((len(b) for b in self.bs.screener.builder.breaks.values()), default=0) + 1

    def _rec_sig(self, key: tuple[Any, ...]) -> Any:
        return self.relevance.recipient_signature(key)

    def _rest_sig(self, key: tuple[Any, ...]) -> Any:
        return self.relevance.rest_signature(key)

    def _sig(self, key: tuple[Any, ...]) -> tuple[Any, list[int]]:
        return self.relevance.signature(key), self.relevance.cuts(key)

    def _e_world(self, key: tuple[Any, ...]) -> Any:
        return self.relevance.exporter_world(key)

    def _r_world(self, key: tuple[Any, ...]) -> Any:
        return self.relevance.recipient_world(key)

    def _answer(self, key: tuple[Any, ...]) -> tuple[Any, str]:
        from policy.eval.batch_meaning import Result

        s = self.bs.screener.screen(transfer_scenario(key))
        juris = tuple((c, r, v.value) for c, r, v in s.jurisdictions)
        return Result(s.verdict.value, juris, tuple(s.deciding_rules)), screening_tail(s)

    def _per_line(self, line: tuple[int, bytes]) -> Any:
        assert self._per_line_path is not None, "no per-line path given"
        return self._per_line_path(self.bs, [line])


def _let_go_of_files(keep: int) -> None:
    """Close every descriptor inherited at fork but ``keep``, and put /dev/null in place of the standard
    streams: a pipe or FIFO the batch's process holds (its input's writer, its output's reader)
    must see its end when the batch's process closes it, not when the helper ends."""
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        if fd != keep:
            os.dup2(null, fd)
    try:
        most = os.sysconf("SC_OPEN_MAX")
    except (ValueError, OSError):
        most = 1 << 16
    os.closerange(3, keep)
    os.closerange(keep + 1, max(most, keep + 1))


def _serve(here: RulesHere, conn: Connection) -> None:
    """The helper: build the screener at once, then answer until the batch says it is done."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the batch handles Ctrl-C and stops the helper
    _let_go_of_files(conn.fileno())
    try:
        here.bs  # noqa: B018 - the point: load the rules while the batch reads
    except BaseException:  # noqa: BLE001 - the error is raised again with the first question
        pass
    while True:
        try:
            msg = conn.recv()
        except (EOFError, OSError):
            return
        if msg is None:
            return
        try:
            reply: tuple[str, Any] = ("ok", here.ask(*msg))
        except BaseException:  # noqa: BLE001 - the batch asks again in its own process, which raises it
            reply = ("failed", None)
        try:
            conn.send(reply)
        except Exception:  # noqa: BLE001 - an answer that does not pickle: the batch asks again
            conn.send(("failed", None))


class RulesBeside:
    """The answers of a ``RulesHere`` in a helper process (fork), with ``here`` as the fallback."""

    def __init__(self, here: RulesHere) -> None:
        import multiprocessing as mp

        self.here = here
        ctx = mp.get_context("fork")
        self.conn, theirs = ctx.Pipe()
        self.process: Any = ctx.Process(target=_serve, args=(here, theirs), daemon=True)
        self.process.start()
        theirs.close()
        self.alive = True

    @property
    def bs(self) -> BatchScreener:
        return self.here.bs

    def ask(self, question: str, keys: list[Any]) -> list[Any]:
        if self.alive:
            try:
                self.conn.send((question, keys))
                status, value = self.conn.recv()
            except Exception:  # noqa: BLE001 - a helper that died or sent what does not unpickle
                self.close()
            else:
                if status == "ok":
                    return value  # type: ignore[no-any-return]
        return self.here.ask(question, keys)  # the same answer, or the error, from this process

    def close(self) -> None:
        """Stop the helper (it holds nothing that needs a clean end; it also ends with this process)."""
        if not self.alive:
            return
        self.alive = False
        self.conn.close()
        self.process.terminate()
        self.process.join(timeout=5)
