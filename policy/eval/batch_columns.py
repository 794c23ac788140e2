"""Columnar batch screening: a chunk of lines decoded into columns, checked, keyed and written by column.

A chunk of JSON Lines is decoded in one call (msgspec, typed), a chunk of CSV lines split into
cells, a Parquet batch read as columns. Each column's distinct values are checked once with the
transfer contract; every line's *meaning* (``batch_meaning.Relevance``: what of its fields, date
and world data the rules can tell apart) is computed with numpy, each step a lookup of the
chunk's distinct values in sorted int64 tables (``KnownInts``), with Python only for values no
earlier chunk had; only new meanings are screened; the output is built per column. What needs
the rules (an item, a state's breaks, signatures, world facts, a meaning's result) is asked of
``batch_rules``; everything else is in the screener's own tables, which ``batch_memo`` keeps
between runs.

A line the columns cannot take — a bad value, a missing field, `via`, `transit`, `origin`,
`licence` or `items`, anything msgspec will not decode as a plain transfer — is handed, in
its place, to the per-line path, which writes the same result or error it always did. So the
output is byte-identical to the per-line path's (``tests/test_batch_columns.py`` checks it).

Needs msgspec (JSON Lines) and pyarrow (Parquet): the ``columnar`` extra. Without msgspec a
JSON Lines input takes the per-line path.

Over 500 lines because decoding, checking by column, keying and writing by column are one
pipeline over the same column arrays; splitting them would pass those arrays between modules.
"""

from __future__ import annotations

import csv
import io
import json
import operator
import re
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from typing import Any, Callable, Iterable, Sequence, Sized

import numpy as np

from policy.eval.batch import BatchScreener, LineError, line_country, line_day
from policy.eval.batch_meaning import TABLE_LIMIT, Result
from policy.model.contract import END_USERS, TRANSFERS, read_choice, read_flag

ChunkResult = tuple[str, int, int, list[tuple[int, str, str]]]
"""(output text, screened, blank, [(line, code, message)]), as ``batch_run.screen_chunk`` returns."""

PerLines = Callable[[list[tuple[int, Any]]], list[ChunkResult]]
"""The per-line path: one result per line given (``batch_run.screen_chunk`` of each, screener bound)."""

_SPECIAL = ("via", "transit", "origin", "licence", "items", "contract_date", "existing_licence")
_TABLE_LIMIT = TABLE_LIMIT
_RESULT_LIMIT = 200_000
_BAD = -1
_NO_FLAG = 2  # `lethal` not given


def _line_decoder() -> Any:
    """A msgspec decoder for a plain transfer line; anything else fails to decode (and goes per line).

    A line with `via`, `transit`, `origin`, `licence`, `items` or an unknown field does not decode.
    """
    import msgspec

    class Line(msgspec.Struct, forbid_unknown_fields=True, gc=False):
        date: str | None = None
        exporter: str | None = None
        recipient: str | None = None
        item: str | None = None
        end_user: str | None = None
        transfer: str | None = None
        lethal: bool | None = None
        id: int | str | None = None

    return msgspec.json.Decoder(Line)


_CLASS_BITS = 18  # class ids of world facts in a packed meaning (tables are reset at _TABLE_LIMIT)
_SLOT_BITS = 62 - 2 * _CLASS_BITS
_PART_BITS = 20  # signature part ids in a packed pair of parts (tables are reset at _TABLE_LIMIT)


class KnownInts:
    """int64 keys -> int64 values, looked up by column: known keys by ``searchsorted``, new ones computed once."""

    def __init__(self) -> None:
        self.keys = np.zeros(0, dtype=np.int64)
        self.values = np.zeros(0, dtype=np.int64)

    def __len__(self) -> int:
        return len(self.keys)

    def lookup(self, keys: Any, compute: Callable[[Any, Any], Any]) -> Any:
        """The value of each key; ``compute(new keys, a position of each in keys)`` gives the new ones."""
        known = self.keys
        if len(known):  # most chunks: every key known, no sorting
            pos = np.searchsorted(known, keys)
            np.minimum(pos, len(known) - 1, out=pos)
            if (known[pos] == keys).all():
                return self.values[pos]
        distinct, at, first = unique(keys)
        pos = np.searchsorted(known, distinct)
        if len(known):
            np.minimum(pos, len(known) - 1, out=pos)
            found = known[pos] == distinct
        else:
            found = np.zeros(len(distinct), dtype=bool)
        if not found.all():
            new = np.flatnonzero(~found)
            values = compute(distinct[new], first[new])
            merged = np.concatenate([known, distinct[new]])
            order = np.argsort(merged, kind="stable")
            self.keys, self.values = merged[order], np.concatenate([self.values, values])[order]
            pos = np.searchsorted(self.keys, distinct)
        return self.values[pos][at]


def unique(a: Any) -> tuple[Any, Any, Any]:
    """(sorted distinct values, each value's index among them, each distinct value's first position).

    ``np.unique`` without its check for masked arrays, which imports ``numpy.ma`` (60 ms at start-up).
    """
    order = np.argsort(a, kind="stable")
    ordered = a[order]
    starts = np.empty(len(a), dtype=bool)
    starts[:1] = True
    np.not_equal(ordered[1:], ordered[:-1], out=starts[1:])
    at = np.empty(len(a), dtype=np.int64)
    at[order] = np.cumsum(starts) - 1
    return ordered[starts], at, order[starts]


@dataclass
class Columns:
    """One chunk as columns of raw values; ``rows[i]`` is the chunk position of the i-th value."""

    rows: list[int]
    date: Sequence[Any]
    exporter: Sequence[Any]
    recipient: Sequence[Any]
    item: Sequence[Any]
    end_user: Sequence[Any]
    transfer: Sequence[Any]
    lethal: Sequence[Any]
    id: Sequence[Any]
    slow: list[int] = field(default_factory=list)  # chunk positions for the per-line path
    rest: Sequence[tuple[Any, ...]] | None = None  # (exporter, recipient, item, end user, transfer, lethal)

    def rest_tuples(self) -> Sequence[tuple[Any, ...]]:
        if self.rest is not None:
            return self.rest
        return list(zip(self.exporter, self.recipient, self.item, self.end_user, self.transfer, self.lethal))


class _Choice:
    """A field's value (`end_user`, `transfer`) as its id, ``_BAD`` when the contract refuses it."""

    def __init__(self, ids: dict[str, int], default: str) -> None:
        self.ids, self.default = ids, default

    def __call__(self, v: Any) -> int:
        if v is None or v == "":
            return self.ids[self.default]
        try:
            return self.ids[read_choice(v, self.ids)]
        except ValueError:
            return _BAD


class ColumnarScreener:
    """Screens chunks by column with a :class:`BatchScreener`'s checker and screener.

    Raw values map to small integer ids once (bounded tables): a line is (day, exporter, recipient,
    rest), the rest packing end user, transfer, item (category, catalogue id, lethality) and
    `lethal`. ``_meanings`` reduces those columns to each line's meaning and its result.
    """

    def __init__(self, bs: BatchScreener | None = None, rules: Any = None, text: bool = False) -> None:
        """Over a batch screener ``bs``, or over ``rules`` (a ``batch_rules.RulesHere`` or
        ``RulesBeside``) for an input read as text (CSV) or not."""
        from policy.eval.batch_rules import RulesHere

        if bs is not None:
            rules, text = RulesHere(lambda: bs), bs.checker.text
        self.rules: Any = rules  # what it asks of the rules (``use_rules``)
        self.text = text
        self.dirty = False  # learned something since built or restored (``policy.eval.batch_memo``)
        self.countries: dict[str, int] = {}  # canonical code -> id
        self.codes: list[str] = []
        self.items: dict[tuple[str, str | None, bool | None], int] = {}
        self.item_list: list[tuple[str, str | None, bool | None]] = []
        self.end_users = {v: i for i, v in enumerate(END_USERS)}
        self.transfers = {v: i for i, v in enumerate(TRANSFERS)}
        self._raw_day: dict[Any, int] = {}
        self._raw_country: dict[Any, int] = {}  # raw value -> country id (``_country_id``)
        self._raw_item: dict[Any, int] = {}
        self._raw_rest: dict[Any, int] = {}
        self._end_user = _Choice(self.end_users, "military")
        self._transfer = _Choice(self.transfers, "sale")
        self._breaks: dict[int, Any] = {}  # country id -> its world-data breaks (ordinals)
        # packed meaning (interval of the signature's days, exporter and recipient classes) -> index in
        # `distinct`; packed (exporter, signature parts) -> signature id; packed (exporter, interval
        # of its world data) and (recipient, rest, interval) -> class ids (``_meanings``)
        self.meanings, self._trip_sig, self._e_of, self._r_of = KnownInts(), KnownInts(), KnownInts(), KnownInts()
        self._sig_ids: dict[tuple[Any, ...], int] = {}  # Relevance.signature -> id
        self._part_ids: dict[tuple[Any, ...], int] = {}  # the recipient's or the rest's signature -> id
        self._rec_part, self._rest_part = KnownInts(), KnownInts()  # packed (exporter, recipient / rest) -> part id
        self._e_ids: dict[tuple[Any, ...], int] = {}  # the exporter's world facts -> id
        self._r_ids: dict[tuple[Any, ...], int] = {}  # the recipient's world facts -> id
        self._sig_days_list: list[list[int]] = []  # per signature id: the days that matter (ordinals)
        self._sig_days = np.zeros(0, dtype=np.int64)  # all of them, (signature << 22) | day, sorted
        self._sig_days_stale = True
        self.distinct: list[tuple[Result, str]] = []  # (result, JSON tail)
        self._tails_by_text: dict[str, int] = {}
        self._csv_tails: dict[int, str] = {}
        self._line_ends: list[str] = []  # per distinct result: its JSON line after the id
        # bit widths of the packed ids: the widest is (exporter or interval, recipient, rest) in _meanings
        self.b_slot: int = int(self.rules.ask("slots", [None])[0]).bit_length()
        self.b_country = 9
        self.b_choice = 3
        self.b_rest = 62 - self.b_country - max(self.b_country, self.b_slot)
        self.b_item = self.b_rest - 2 * self.b_choice - 2
        self.usable = self.b_item >= 8 and len(END_USERS) < 8 and len(TRANSFERS) < 8
        # every known country's breaks as (country << 22) | day, sorted, and where each country's begin
        self._break_index = np.zeros(0, dtype=np.int64)
        self._break_start = np.zeros(1 << self.b_country, dtype=np.int64)
        self._break_known = np.zeros(1 << self.b_country, dtype=bool)

    # ---------------------------------------------------------------- what it asks of the rules

    def use_rules(self, rules: Any) -> None:
        """Where its questions go (``batch_rules.RulesHere`` or ``RulesBeside``): a screener
        restored from memory (``batch_memo``) has none until given one."""
        self.rules = rules

    def __getstate__(self) -> dict[str, Any]:
        """What it has learned (plain tables, arrays and results), without the rules it asks."""
        state = dict(self.__dict__)
        state.update(rules=None, dirty=False)
        return state

    def reset(self) -> None:
        """Forget every result and item id (the packed keys name item ids)."""
        self.dirty = True
        self.distinct, self._tails_by_text, self._csv_tails, self._line_ends = [], {}, {}, []
        self._forget_meanings()
        self.items, self.item_list = {}, []
        self._raw_item.clear()
        self._raw_rest.clear()

    # ---------------------------------------------------------------- raw values to ids

    def _country_id(self, v: Any) -> int:
        try:
            code = line_country(v, "exporter")
        except LineError:
            return _BAD
        cid = self.countries.get(code)
        if cid is None:
            if len(self.codes) >= 1 << self.b_country:
                return _BAD  # leaves the columns for the per-line path; never for ISO codes
            cid = self.countries[code] = len(self.codes)
            self.codes.append(code)
        return cid

    def _day(self, v: Any) -> int:
        try:
            return line_day(v).toordinal()
        except LineError:
            return _BAD

    def _item_id(self, v: Any) -> int:
        hit = self.rules.ask("item", [v])[0]
        if hit is None:
            return _BAD
        iid = self.items.get(hit)
        if iid is None:
            if len(self.item_list) >= 1 << self.b_item:
                return _BAD
            iid = self.items[hit] = len(self.item_list)
            self.item_list.append(hit)
        return iid

    def _lethal(self, v: Any) -> int:
        if v is None or (self.text and v == ""):
            return _NO_FLAG
        try:
            return int(read_flag(v, self.text))
        except ValueError:
            return _BAD

    def _rest(self, v: tuple[Any, Any, Any, Any, Any, Any]) -> int:
        """(exporter, recipient, item, end user, transfer, lethal) packed into one id, or ``_BAD``."""
        ids = []
        for raw, table, convert in (
            (v[0], self._raw_country, self._country_id),
            (v[1], self._raw_country, self._country_id),
            (v[2], self._raw_item, self._item_id),
        ):
            hit = table.get(raw)
            if hit is None:
                if len(table) > _TABLE_LIMIT:
                    table.clear()
                hit = table[raw] = convert(raw)
            ids.append(hit)
        exp, rec, item = ids
        parts = (exp, rec, item, self._end_user(v[3]), self._transfer(v[4]), self._lethal(v[5]))
        if min(parts) < 0 or exp == rec:
            return _BAD
        rest = (((item << self.b_choice | parts[3]) << self.b_choice) | parts[4]) << 2 | parts[5]
        return (((exp << self.b_country) | rec) << self.b_rest) | rest

    def _ids(self, col: Sequence[Any], table: dict[Any, int], convert: Callable[[Any], int]) -> Any:
        """The column as an int64 array of ids (``_BAD`` for a value the contract refuses)."""
        count = len(col)
        try:
            return np.fromiter(map(table.__getitem__, col), dtype=np.int64, count=count)
        except KeyError:
            pass
        self.dirty = True
        if len(table) > _TABLE_LIMIT:
            table.clear()
        for v in dict.fromkeys(col):
            if v not in table:
                table[v] = convert(v)
        return np.fromiter(map(table.__getitem__, col), dtype=np.int64, count=count)

    # ---------------------------------------------------------------- per-country tables

    def _slots(self, cid: Any, day: Any) -> Any:
        """Each line's world-data interval for the country ids in ``cid``: how many of the country's
        breaks fall on or before the day (one searchsorted over every country's, offset by country)."""
        known = self._break_known[cid]
        if not known.all():
            self.dirty = True
            for c in sorted(set(cid[~known].tolist())):
                b = self.rules.ask("breaks", [self.codes[c]])[0]
                self._breaks[c] = np.array(b, dtype=np.int64)
                self._break_known[c] = True
            ids = sorted(self._breaks)
            self._break_index = np.concatenate([self._breaks[c] | (c << 22) for c in ids])
            sizes = np.zeros(len(self._break_start), dtype=np.int64)
            sizes[ids] = [len(self._breaks[c]) for c in ids]
            self._break_start = np.concatenate([[0], np.cumsum(sizes)[:-1]])
        return np.searchsorted(self._break_index, (cid << 22) | day, side="right") - self._break_start[cid]

    # ---------------------------------------------------------------- screening

    def screen(self, cols: Columns) -> tuple[list[int], Any, Any, list[int]]:
        """(chunk positions screened by column, which of the columns' values they are (None: all),
        their index into ``distinct``, chunk positions left for the per-line path)."""
        n = len(cols.rows)
        if not n:
            return [], None, np.zeros(0, dtype=np.int64), sorted(cols.slow)
        if len(self.distinct) > _RESULT_LIMIT or len(self.item_list) > _TABLE_LIMIT:
            self.reset()  # bounded memory: start afresh between chunks
        day = self._ids(cols.date, self._raw_day, self._day)
        # the other fields take few values together (exporter, recipient, item, end user, transfer,
        # `lethal`): one lookup of the six, packed as (exporter, recipient, the rest)
        packed = self._ids(cols.rest_tuples(), self._raw_rest, self._rest)
        exp = packed >> (self.b_country + self.b_rest)
        rec = (packed >> self.b_rest) & ((1 << self.b_country) - 1)
        rest = packed & ((1 << self.b_rest) - 1)
        good = (day >= 0) & (packed >= 0)
        rows = cols.rows
        slow = cols.slow
        keep = None
        if not good.all():
            bad_at = np.flatnonzero(~good)
            slow = slow + [rows[i] for i in bad_at.tolist()]
            keep = np.flatnonzero(good)
            day, exp, rec, rest = (a[keep] for a in (day, exp, rec, rest))
            rows = [rows[i] for i in keep.tolist()]
        if not rows:
            return [], keep, np.zeros(0, dtype=np.int64), sorted(slow)
        return rows, keep, self._meanings(day, exp, rec, rest), sorted(slow)

    def _meanings(self, day: Any, exp: Any, rec: Any, rest: Any) -> Any:
        """Each line's index into ``distinct``, by column, through its meaning (``Relevance``).

        Each step is a :class:`KnownInts` lookup over the chunk's distinct values: Python runs only
        for a value no earlier chunk had (a new (exporter, recipient, rest), world-data interval or
        meaning); the rest is numpy over the lines.
        """
        tables: tuple[Sized, ...] = (self._sig_ids, self._e_ids, self._r_ids, self._part_ids, self.meanings)
        memos: tuple[Sized, ...] = (self._trip_sig, self._rec_part, self._rest_part, self._e_of, self._r_of)
        if (
            max(len(t) for t in tables) > _TABLE_LIMIT
            or max(len(t) for t in memos) > _RESULT_LIMIT
            or len(self._sig_days) + len(self._sig_days_list) >= 1 << _SLOT_BITS
        ):
            self._forget_meanings()  # bounded memory: class ids start again
        # the world-data interval of exporter and recipient
        se, sr = self._slots(exp, day), self._slots(rec, day)
        cols = (day, exp, rec, rest)
        # the signature of the fields other than the date: of the recipient once per (exporter,
        # recipient), of the rest once per (exporter, rest), of both once per pair of parts
        part_r = self._rec_part.lookup(
            (exp << self.b_country) | rec, lambda k, at: self._new("rec_sig", self._rec_part_id, at, cols)
        )
        part_t = self._rest_part.lookup(
            (exp << self.b_rest) | rest, lambda k, at: self._new("rest_sig", self._rest_part_id, at, cols)
        )
        parts = (((exp << _PART_BITS) | part_r) << _PART_BITS) | part_t
        sig = self._trip_sig.lookup(parts, lambda k, at: self._new("sig", self._sig_id, at, cols))
        # the interval of the date among the days that matter to the signature: one searchsorted
        # over every signature's days, offset by signature; `span` numbers (signature, interval)
        if self._sig_days_stale:
            self._index_sig_days()
        span = np.searchsorted(self._sig_days, (sig << 22) | day, side="right") + sig
        # the world facts the rules read, as classes of equal values
        e = self._e_of.lookup((exp << self.b_slot) | se, lambda k, at: self._new("e_world", self._e_class, at, cols))
        r_key = (((rec << self.b_rest) | rest) << self.b_slot) | sr
        r = self._r_of.lookup(r_key, lambda k, at: self._new("r_world", self._r_class, at, cols))
        meaning = (((span << _CLASS_BITS) | e) << _CLASS_BITS) | r
        return self.meanings.lookup(meaning, lambda k, at: self._new("answer", self._result_id, at, cols))

    def _new(self, question: str, assign: Callable[[Any], int], at: Any, cols: tuple[Any, ...]) -> Any:
        """The ids of the lines at ``at`` (one per new value): the rules are asked ``question`` about
        each line's transfer, and ``assign`` gives each answer its id."""
        self.dirty = True
        picked = [c[at].tolist() for c in cols]
        answers = self.rules.ask(question, [self._key_of(*args) for args in zip(*picked)])
        return np.fromiter(map(assign, answers), dtype=np.int64, count=len(at))

    def _forget_meanings(self) -> None:
        self.dirty = True
        self._sig_ids, self._e_ids, self._r_ids, self._part_ids = {}, {}, {}, {}
        self._trip_sig, self._e_of, self._r_of, self.meanings = KnownInts(), KnownInts(), KnownInts(), KnownInts()
        self._rec_part, self._rest_part = KnownInts(), KnownInts()
        self._sig_days_list = []
        self._sig_days = np.zeros(0, dtype=np.int64)
        self._sig_days_stale = True

    def _rec_part_id(self, signature: Any) -> int:
        return self._part_ids.setdefault(("r", signature), len(self._part_ids))

    def _rest_part_id(self, signature: Any) -> int:
        return self._part_ids.setdefault(("t", signature), len(self._part_ids))

    def _sig_id(self, answer: tuple[Any, list[int]]) -> int:
        """The id of a line's signature (``Relevance.signature``), with the days that matter to it."""
        sig, cuts = answer
        hit = self._sig_ids.get(sig)
        if hit is None:
            hit = self._sig_ids[sig] = len(self._sig_ids)
            self._sig_days_list.append(cuts)  # the same signature: the same days
            self._sig_days_stale = True
        return hit

    def _index_sig_days(self) -> None:
        days = [np.array(d, dtype=np.int64) | (s << 22) for s, d in enumerate(self._sig_days_list)]
        self._sig_days = np.concatenate(days) if days else np.zeros(0, dtype=np.int64)
        self._sig_days_stale = False

    def _e_class(self, values: tuple[Any, ...]) -> int:
        return self._e_ids.setdefault(values, len(self._e_ids))

    def _r_class(self, values: tuple[Any, ...]) -> int:
        return self._r_ids.setdefault(values, len(self._r_ids))

    def _key_of(self, day: int, exp: int, rec: int, rest: int) -> tuple[Any, ...]:
        """The ``Transfer.key`` of a line from its ids."""
        import datetime as dt

        let = rest & 3
        tr = (rest >> 2) & ((1 << self.b_choice) - 1)
        eu = (rest >> (2 + self.b_choice)) & ((1 << self.b_choice) - 1)
        category, item_id, item_lethal = self.item_list[rest >> (2 + 2 * self.b_choice)]
        lethal = item_lethal if let == _NO_FLAG else bool(let)
        return (
            dt.date.fromordinal(day),
            self.codes[exp],
            self.codes[rec],
            END_USERS[eu],
            TRANSFERS[tr],
            category,
            item_id,
            lethal,
            None,
            None,
            (),
            (),
        )

    def _result_id(self, answer: tuple[Result, str]) -> int:
        """The index into ``distinct`` of a meaning's result (one of its lines screened)."""
        result, tail = answer
        at = self._tails_by_text.get(tail)
        if at is None:
            at = self._tails_by_text[tail] = len(self.distinct)
            self.distinct.append((result, tail))
            self._line_ends.append(f",{tail}\n")
        return at

    # ---------------------------------------------------------------- a chunk, end to end

    def chunk(self, n0: int, lines: list[bytes], cols: Columns, out_fmt: str, per_line: PerLines) -> ChunkResult:
        """Screen one chunk (line ``n0`` first) by column; the lines left over by the per-line path."""
        rows, keep, which, slow = self.screen(cols)
        ids = cols.id
        if keep is not None:  # some lines left the columns: their ids too
            ids = [ids[i] for i in keep.tolist()]
        texts = self._texts(n0, rows, ids, which.tolist(), out_fmt)
        if not slow:
            return "".join(texts), len(rows), 0, []
        out: list[str] = [""] * len(lines)
        for r, t in zip(rows, texts):
            out[r] = t
        screened, blank, errors = len(rows), 0, []
        for r, (text, s, b, e) in zip(slow, per_line([(n0 + r, lines[r]) for r in slow])):
            out[r] = text
            screened += s
            blank += b
            errors.extend(e)
        return "".join(out), screened, blank, errors

    def _texts(self, n0: int, rows: list[int], ids: Sequence[Any], which: list[int], out_fmt: str) -> list[str]:
        distinct = self.distinct
        if out_fmt == "jsonl" and all(type(v) is int for v in ids):
            ends = map(self._line_ends.__getitem__, which)
            return [f'{{"line":{n0 + r},"id":{v}{end}' for r, v, end in zip(rows, ids, ends)]
        if out_fmt == "jsonl":
            enc = encode_basestring
            return [
                f'{{"line":{n0 + r},"id":{v if type(v) is int else "null" if v is None else enc(v)},{distinct[w][1]}\n'
                for r, v, w in zip(rows, ids, which)
            ]
        ctails = [self._csv_tail(w) for w in which]
        cells = [str(v) if type(v) is int else "" if v is None else _csv_cell(v) for v in ids]
        return [f"{n0 + r},{c},{t}" for r, c, t in zip(rows, cells, ctails)]

    def _csv_tail(self, w: int) -> str:
        hit = self._csv_tails.get(w)
        if hit is None:
            s = self.distinct[w][0]
            buf = io.StringIO()
            csv.writer(buf, lineterminator="\n").writerow(
                [
                    s.verdict,
                    ";".join(f"{c}/{r}={v}" for c, r, v in s.jurisdictions),
                    ";".join(s.deciding_rules),
                ]
            )
            hit = self._csv_tails[w] = buf.getvalue()
        return hit

    def results_of(self, which: Iterable[int]) -> list[tuple[str, dict[str, str], list[str]]]:
        out = []
        for w in which:
            s = self.distinct[w][0]
            out.append((s.verdict, {f"{c}/{r}": v for c, r, v in s.jurisdictions}, list(s.deciding_rules)))
        return out


_PLAIN_CELL = re.compile(r"[A-Za-z0-9_.:/+@#-]*")


def _csv_cell(v: Any) -> str:
    """A value as the csv module writes it in the middle of a row."""
    if isinstance(v, str) and _PLAIN_CELL.fullmatch(v):
        return v
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerow(["", v, ""])
    return buf.getvalue()[1:-2]


# -------------------------------------------------------------------- decoding chunks into columns


_DATE = operator.attrgetter("date")
_ID = operator.attrgetter("id")
_REST = operator.attrgetter("exporter", "recipient", "item", "end_user", "transfer", "lethal")


class JsonLines:
    """Decodes a chunk of JSON Lines into :class:`Columns` (msgspec, typed; one call for a clean chunk)."""

    def __init__(self) -> None:
        import msgspec

        self.decoder = _line_decoder()
        self.error: type[Exception] = msgspec.DecodeError

    def columns(self, blob: bytes, lines: list[bytes]) -> Columns:
        dec = self.decoder
        rows: list[int] | None = None
        slow: list[int] = []
        decoded: list[Any]
        try:
            decoded = dec.decode_lines(blob)
            if len(decoded) != len(lines):  # a blank line: decode_lines skips it
                raise self.error("blank line")
        except self.error:
            decoded, rows = [], []
            for i, raw in enumerate(lines):
                try:
                    decoded.append(dec.decode(raw))
                except self.error:
                    slow.append(i)
                    continue
                rows.append(i)
        if rows is None:
            rows = list(range(len(lines)))
        return Columns(
            rows,
            list(map(_DATE, decoded)),
            (),
            (),
            (),
            (),
            (),
            (),
            list(map(_ID, decoded)),
            slow,
            list(map(_REST, decoded)),
        )


class CsvLines:
    """Splits a chunk of CSV lines into :class:`Columns`, each line on its own as the per-line path reads it.

    A line without quotes is split at its commas (what the csv module does with it); one with
    quotes is read by the csv module; a line it refuses, with a NUL, blank or of the wrong width
    goes to the per-line path, which reports it.
    """

    def __init__(self, header: list[str]) -> None:
        self.header = header
        self.width = len(header)
        self.pos = {name: i for i, name in enumerate(header)}
        self.special = [self.pos[k] for k in _SPECIAL if k in self.pos]

    def columns(self, n0: int, lines: list[bytes]) -> Columns:
        rows: list[int] = []
        cells: list[list[str]] = []
        slow: list[int] = []
        width = self.width
        for i, raw in enumerate(lines):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError:
                slow.append(i)
                continue
            if text.endswith("\r"):
                text = text.rstrip("\r")
            if "\x00" in text or not text.strip() or (n0 + i == 1):
                slow.append(i)
                continue
            if '"' in text or "\r" in text:  # read as the per-line path reads it
                try:
                    parts = next(csv.reader([text], strict=True))
                except csv.Error:
                    slow.append(i)
                    continue
            else:
                parts = text.split(",")
            if len(parts) != width or any(parts[k] for k in self.special):
                slow.append(i)
                continue
            rows.append(i)
            cells.append(parts)
        cols = list(zip(*cells)) if cells else [() for _ in range(width)]
        none: list[Any] = [None] * len(rows)

        def col(name: str) -> Sequence[Any]:
            at = self.pos.get(name)
            return none if at is None else cols[at]

        return Columns(
            rows,
            col("date"),
            col("exporter"),
            col("recipient"),
            col("item"),
            col("end_user"),
            col("transfer"),
            col("lethal"),
            col("id"),
            slow,
        )


def json_lines(n0: int, blob: bytes) -> list[bytes]:
    """A chunk's lines (without their line ends); the last piece is dropped when the chunk ends a line."""
    lines = blob.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()
    return lines


def jsonl_tail_record(text: str) -> tuple[int, Any, tuple[str, dict[str, str], list[str]]]:
    """(line, id, result) from one JSON output line of the per-line path."""
    rec = json.loads(text)
    return rec["line"], rec["id"], (rec["verdict"], rec["jurisdictions"], rec["deciding_rules"])


# -------------------------------------------------------------------- Parquet


def OUT_SCHEMA() -> Any:  # noqa: N802 - a constant built on first use (pyarrow is imported lazily)
    """The Parquet output: one row per screened line, as the JSON output's fields."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    return pa.schema(
        [
            ("line", pa.int64()),
            ("id", pa.string()),
            ("verdict", pa.string()),
            ("jurisdictions", pa.map_(pa.string(), pa.string())),
            ("deciding_rules", pa.list_(pa.string())),
        ]
    )


def id_text(v: Any) -> str | None:
    """An id in the Parquet output: text (a number as its digits; a list or object as its JSON)."""
    if v is None or type(v) is str:
        return v
    if type(v) is int:
        return str(v)
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


def chunk_table(cs: ColumnarScreener, n0: int, lines: Sequence[Any], cols: Columns, per_line: PerLines) -> ChunkResult:
    """Like :meth:`ColumnarScreener.chunk`, for Parquet output: the chunk's rows as an Arrow table."""
    import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

    rows, keep, which, slow = cs.screen(cols)
    ids: Sequence[Any] = cols.id
    if keep is not None:
        ids = [ids[i] for i in keep.tolist()]
    used = unique(which)[0]
    results = cs.results_of(used.tolist())
    local = np.searchsorted(used, which).tolist()
    entries = list(zip(rows, ids, local))
    screened, blank, errors = len(rows), 0, []
    for r, (text, s, b, e) in zip(slow, per_line([(n0 + r, lines[r]) for r in slow])):
        screened += s
        blank += b
        errors.extend(e)
        if text:
            rec = json.loads(text)
            entries.append((r, rec["id"], len(results)))
            results.append((rec["verdict"], rec["jurisdictions"], rec["deciding_rules"]))
    if slow:
        entries.sort(key=lambda x: x[0])
    at = pa.array([x[2] for x in entries], type=pa.int64())
    schema = OUT_SCHEMA()
    table = pa.table(
        [
            pa.array([n0 + x[0] for x in entries], type=pa.int64()),
            pa.array([id_text(x[1]) for x in entries], type=pa.string()),
            pa.array([r[0] for r in results], type=pa.string()).take(at),
            pa.array([list(r[1].items()) for r in results], type=schema.field("jurisdictions").type).take(at),
            pa.array([r[2] for r in results], type=pa.list_(pa.string())).take(at),
        ],
        schema=schema,
    )
    return table, screened, blank, errors


class _Rows:
    """A Parquet batch's rows as mappings, built only for the rows the per-line path takes."""

    def __init__(self, names: list[str], cols: list[list[Any]]) -> None:
        self.names, self.cols = names, cols

    def __len__(self) -> int:
        return len(self.cols[0]) if self.cols else 0

    def __getitem__(self, i: int) -> dict[str, Any]:
        return {k: c[i] for k, c in zip(self.names, self.cols) if c[i] is not None}


class ParquetInput:
    """A Parquet file of transfers, read in batches of rows (memory stays flat); row numbers count from 1."""

    def __init__(self, name: str, src: Any) -> None:
        import pyarrow.parquet as pq  # type: ignore[import-untyped,unused-ignore]

        from policy.eval.batch import CSV_FIELDS
        from policy.model.errors import Diagnostic, LoadError, SourceSpan

        self.file = pq.ParquetFile(src)
        schema = self.file.schema_arrow
        self.names: list[str] = list(schema.names)
        for col in self.names:
            if col not in CSV_FIELDS or self.names.count(col) > 1:
                why = "repeated" if col in CSV_FIELDS else "unknown"
                raise LoadError(
                    [
                        Diagnostic(
                            "unknown-field",
                            f"{why} column `{col}` in the Parquet file",
                            SourceSpan(name),
                            f"columns: {', '.join(CSV_FIELDS)}",
                        )
                    ]
                )
        import pyarrow as pa  # type: ignore[import-untyped,unused-ignore]

        id_type = schema.field("id").type if "id" in self.names else pa.string()
        t = pa.types
        plain = t.is_integer(id_type) or t.is_string(id_type) or t.is_large_string(id_type)
        # `lethal` as numbers would meet `true` in the lookup tables (1 == True), and lists or
        # records where a value belongs cannot be table keys: such a file goes line by line
        flag_type = schema.field("lethal").type if "lethal" in self.names else pa.bool_()
        plain = plain and (t.is_boolean(flag_type) or t.is_string(flag_type) or t.is_null(flag_type))
        scalar = ("date", "exporter", "recipient", "item", "end_user", "transfer")
        self.plain_ids = plain and not any(t.is_nested(schema.field(k).type) for k in scalar if k in self.names)
        self.rows: int = self.file.metadata.num_rows

    def batches(self, size: int) -> Iterable[tuple[int, _Rows, Columns]]:
        n0 = 1
        special = [k for k in _SPECIAL if k in self.names]
        for batch in self.file.iter_batches(batch_size=size):
            data = {k: batch.column(k).to_pylist() for k in self.names}
            count = batch.num_rows
            none: list[Any] = [None] * count
            if not self.plain_ids:
                rows, slow = [], list(range(count))
            elif special:
                lists = [data[k] for k in special]
                flags = [all(c[i] is None for c in lists) for i in range(count)]
                rows = [i for i in range(count) if flags[i]]
                slow = [i for i in range(count) if not flags[i]]
            else:
                rows, slow = list(range(count)), []

            picked = {
                k: data.get(k, none) if len(rows) == count else [data.get(k, none)[i] for i in rows]
                for k in ("date", "exporter", "recipient", "item", "end_user", "transfer", "lethal", "id")
            }
            yield (
                n0,
                _Rows(self.names, [data[k] for k in self.names]),
                Columns(rows, **picked, slow=slow),
            )
            n0 += count
