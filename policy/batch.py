"""Screening many transfers: JSON Lines or CSV in, JSON Lines or CSV out, streamed.

Each input line is one transfer with the scenario's fields (``date``, ``exporter``,
``recipient``, ``end_user``, ``transfer``, ``item`` — an ML category or a catalogue id —,
``lethal``, ``origin``, ``licence``, ``via``, ``id``). Lines are checked without building
pydantic models (the checks are the same as a scenario's), screened on the compiled path, and
written in input order. A bad line is reported with its number and skipped; memory stays flat.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from bisect import bisect_right
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from .compiled import Screener, Screening
from .countries import is_country
from .facts import END_USERS, TRANSFERS
from .models import CATEGORY_RE, iter_leaves
from .rulebase import RuleBase

CSV_FIELDS = [
    "id",
    "date",
    "exporter",
    "recipient",
    "end_user",
    "transfer",
    "item",
    "lethal",
    "origin",
    "licence",
    "via",
    "transit",
]
OUT_FIELDS = ["line", "id", "verdict", "jurisdictions", "deciding_rules"]


class LineError(ValueError):
    """A bad input line: the message says what is wrong."""


@dataclass
class Transfer:
    """A checked input line: ``key`` holds every field that can change the verdict, ``id`` the rest.

    ``key`` is (date, exporter, recipient, end user, transfer, category, catalogue id, lethal,
    origin, licence, via, transit); ``BatchScreener.key`` turns it into the cache key.
    """

    key: tuple[Any, ...]
    id: Any


_FIELDS = frozenset(CSV_FIELDS)
_REQUIRED = ("date", "exporter", "recipient", "item")
_MEMO_LIMIT = 50_000


class LineChecker:
    """Checks input lines as a scenario's loader would, without building pydantic models.

    Order books repeat dates, states and items on many lines, so each distinct value is checked
    once and remembered (the memos are bounded, so memory stays flat).
    """

    def __init__(self, base: RuleBase) -> None:
        self.base = base
        self._days: dict[Any, dt.date] = {}
        self._countries: dict[Any, str] = {}
        self._items: dict[str, tuple[str, str | None, bool | None]] = {}

    def _day(self, v: Any) -> dt.date:
        try:
            day = dt.date.fromisoformat(str(v))
        except ValueError:
            raise LineError(f"`date`: `{v}` is not a date (YYYY-MM-DD)") from None
        if len(self._days) >= _MEMO_LIMIT:
            self._days.clear()
        if isinstance(v, str):
            self._days[v] = day
        return day

    def _country(self, v: Any, field: str) -> str:
        code = self._countries.get(v) if isinstance(v, str) else None
        if code is None:
            if not isinstance(v, str) or not is_country(v.upper()):
                raise LineError(f"`{field}`: `{v}` is not an ISO 3166-1 alpha-2 country code")
            code = self._countries[v] = v.upper()
        return code

    def _states(self, raw: Any, field: str) -> tuple[str, ...]:
        """A list of states: a JSON list, or codes separated by `;` (CSV)."""
        if not raw:
            return ()
        if isinstance(raw, str):
            raw = raw.split(";")
        elif not isinstance(raw, list):
            raise LineError(f"`{field}`: expected a list of country codes, got `{raw}`")
        return tuple(self._country(v, field) for v in raw if v)

    def _item(self, item: str) -> tuple[str, str | None, bool | None]:
        """(category, catalogue id or None, the catalogue's lethality or None)."""
        hit = self._items.get(item)
        if hit is None:
            if CATEGORY_RE.match(item):
                hit = (item, None, None)
            elif item in self.base.items:
                entry = self.base.items[item]
                hit = (entry.category, item, entry.lethal)
            else:
                raise LineError(f"`item`: `{item}` is neither an ML category nor a catalogue item")
            self._items[item] = hit
        return hit

    def check(self, d: Any) -> Transfer:
        """Validate one transfer given as a mapping; raise LineError with a message for people."""
        if type(d) is not dict:
            raise LineError("expected an object with the transfer's fields")
        if not _FIELDS.issuperset(d):
            unknown = sorted(set(d) - _FIELDS)[0]
            raise LineError(f"unknown field `{unknown}` (fields: {', '.join(CSV_FIELDS)})")
        get = d.get
        for req in _REQUIRED:
            if get(req) in (None, ""):
                raise LineError(f"missing `{req}`")
        raw_day = d["date"]
        day = self._days.get(raw_day) if isinstance(raw_day, str) else None
        if day is None:
            day = self._day(raw_day)
        exporter = self._country(d["exporter"], "exporter")
        recipient = self._country(d["recipient"], "recipient")
        end_user = get("end_user") or "military"
        if end_user not in END_USERS:
            raise LineError(f"`end_user`: `{end_user}` is not one of {', '.join(END_USERS)}")
        transfer = get("transfer") or "sale"
        if transfer not in TRANSFERS:
            raise LineError(f"`transfer`: `{transfer}` is not one of {', '.join(TRANSFERS)}")
        lethal = get("lethal")
        if isinstance(lethal, str):
            if lethal.lower() not in ("", "true", "false"):
                raise LineError(f"`lethal`: `{lethal}` is not true or false")
            lethal = None if lethal == "" else lethal.lower() == "true"
        elif lethal is not None and not isinstance(lethal, bool):
            raise LineError(f"`lethal`: `{json.dumps(lethal)}` is not true or false")
        category, item_id, item_lethal = self._item(str(d["item"]))
        if lethal is None:
            lethal = item_lethal
        origin = get("origin")
        origin = self._country(origin, "origin") if origin else None
        licence = get("licence")
        licence = self._country(licence, "licence") if licence else None
        via = self._states(get("via"), "via")
        transit = self._states(get("transit"), "transit")
        if via or transit:
            chain = [exporter, *via, *transit, recipient]
            if len(set(chain)) != len(chain):
                raise LineError("the chain of holders visits a state twice: " + " -> ".join(chain))
        elif exporter == recipient:
            raise LineError(f"the chain of holders visits a state twice: {exporter} -> {recipient}")
        return Transfer(
            (day, exporter, recipient, end_user, transfer, category, item_id, lethal, origin, licence, via, transit),
            get("id"),
        )


def check_line(d: Any, base: RuleBase) -> Transfer:
    """Validate one transfer given as a mapping (see ``LineChecker`` for many lines)."""
    return LineChecker(base).check(d)


class _Lite:
    """A transfer or item as plain attributes, with pydantic's ``model_copy(update=...)`` shape.

    Batch lines are already checked, so building pydantic models for each would only cost time.
    """

    def __init__(self, fields: dict[str, Any]) -> None:
        self.__dict__ = fields

    def model_copy(self, update: dict[str, Any]) -> "_Lite":
        return _Lite({**self.__dict__, **update})


_NO_ASSUMPTIONS: dict[str, Any] = {}


def _scenario(key: tuple[Any, ...]) -> Any:
    day, exporter, recipient, end_user, transfer, category, item_id, lethal, origin, licence, via, transit = key
    item = _Lite(
        {
            "id": item_id,
            "name": item_id or category,
            "category": category,
            "lethal": lethal,
            "origin": origin,
            "licence_origin": licence,
            "components": (),
        }
    )
    return _Lite(
        {
            "id": "batch",
            "date": day,
            "exporter": exporter,
            "recipient": recipient,
            "end_user": end_user,
            "transfer": transfer,
            "via": via,
            "transit": transit,
            "items": (item,),
            "assume": _NO_ASSUMPTIONS,
        }
    )


def _tail(s: Screening) -> str:
    """The JSON of a screening after `{"line":..,"id":..,` (codes and ids are plain ASCII, checked at load)."""
    juris = ",".join(f'"{c}/{r}":"{v.value}"' for c, r, v in s.jurisdictions)
    rules = ",".join(f'"{r}"' for r in s.deciding_rules)
    return f'"verdict":"{s.verdict.value}","jurisdictions":{{{juris}}},"deciding_rules":[{rules}]}}'


def _tests(jf: Any, fact: str) -> bool:
    """Whether any rule of a jurisdiction (or its binding condition) tests ``fact``."""
    return any(leaf.fact == fact for cond in [jf.binds, *(r.when for r in jf.rules)] for leaf, _ in iter_leaves(cond))


class BatchScreener:
    """A Screener with a bounded cache of results for repeated transfers.

    A transfer's verdict depends on its date only through the dates where a rule of a
    jurisdiction that takes part (the holders' states and the regimes) starts, ends or tests the
    date, and where a world entry about a holder or the recipient starts or ends. The cache key
    holds those intervals instead of the date, so an order book of similar lines is screened
    once per distinct transfer and interval; ``tests/test_batch.py`` checks cached results
    against uncached ones on every such boundary.
    """

    def __init__(self, base: RuleBase, cache_size: int = 100_000) -> None:
        self.base = base
        self.screener = Screener(base)
        self.cache: dict[tuple[Any, ...], tuple[Screening, str]] = {}
        self.cache_size = cache_size
        self.check = LineChecker(base).check
        self._slot = self.screener.builder._slot
        self._state_cuts = {code: jf.change_dates() for code, jf in base.jurisdictions.items() if jf.kind != "regime"}
        self._regime_cuts: set[dt.date] = set()
        for jf in base.jurisdictions.values():
            if jf.kind == "regime":
                self._regime_cuts |= jf.change_dates()
        # Which catalogue item a line names matters only to rules that test `item.id`.
        self._item_id_states = {code for code, jf in base.jurisdictions.items() if _tests(jf, "item.id")}
        self._cuts: dict[tuple[str, ...], tuple[list[dt.date], bool]] = {}
        self._shared: dict[str, tuple[Screening, str]] = {}

    def _participants(self, states: tuple[str, ...]) -> tuple[list[dt.date], bool]:
        """For the states that take part: their rules' cut dates, and whether any tests `item.id`."""
        hit = self._cuts.get(states)
        if hit is None:
            union = set(self._regime_cuts)
            for s in states:
                union |= self._state_cuts.get(s, set())
            item_id = bool(self._item_id_states.intersection(states)) or any(
                self.base.jurisdictions[c].kind == "regime" for c in self._item_id_states
            )
            if len(self._cuts) >= _MEMO_LIMIT:
                self._cuts.clear()
            hit = self._cuts[states] = (sorted(union), item_id)
        return hit

    def key(self, t: Transfer) -> tuple[Any, ...]:
        """The cache key: the transfer without its date, plus the date's intervals that matter."""
        k = t.key
        day, exporter, recipient, origin, licence, via, transit = k[0], k[1], k[2], k[8], k[9], k[10], k[11]
        slot = self._slot
        if origin is None and licence is None and not via and not transit:
            cuts, item_id = self._participants((exporter,))
            return (
                bisect_right(cuts, day),
                slot(exporter, day),
                slot(recipient, day),
                *k[1:6],
                k[6] if item_id else None,
                *k[7:],
            )
        states = tuple(s for s in (exporter, origin, licence, *via, *transit) if s)
        cuts, item_id = self._participants(states)
        return (
            bisect_right(cuts, day),
            slot(recipient, day),
            *(slot(s, day) for s in states),
            *k[1:6],
            k[6] if item_id else None,
            *k[7:],
        )

    def screen(self, t: Transfer) -> tuple[Screening, str]:
        """The screening and its JSON tail (everything after the line number and id)."""
        key = self.key(t)
        hit = self.cache.get(key)
        if hit is None:
            s = self.screener.screen(_scenario(t.key))
            tail = _tail(s)
            hit = self._shared.setdefault(tail, (s, tail))  # many keys share few distinct results
            if len(self.cache) >= self.cache_size:
                self.cache.clear()  # bounded memory; a clear is cheaper than LRU bookkeeping
                self._shared.clear()
            self.cache[key] = hit
        return hit


def read_ahead(stream: Iterable[str], limit: int) -> tuple[list[str], bool]:
    """The first lines of a stream, up to ``limit`` characters, and whether the limit was reached.

    >>> import io
    >>> read_ahead(io.StringIO("a\\nbb\\nccc\\n"), 4)
    (['a\\n', 'bb\\n'], True)
    >>> read_ahead(io.StringIO("a\\n"), 4)
    (['a\\n'], False)
    """
    head: list[str] = []
    taken = 0
    it = iter(stream)
    for line in it:
        head.append(line)
        taken += len(line)
        if taken >= limit:
            return head, True
    return head, False


def read_lines(stream: Iterable[str], fmt: str) -> Iterator[tuple[int, Any]]:
    """(line number, raw JSON text or parsed CSV row) for each non-empty input line."""
    if fmt == "csv":
        reader = csv.DictReader(stream)
        for row in reader:
            yield reader.line_num, {k: v for k, v in row.items() if v not in (None, "") and k is not None}
        return
    for n, line in enumerate(stream, 1):
        if line.strip():
            yield n, line


def _parse(raw: Any) -> Any:
    if not isinstance(raw, str):
        return raw
    try:
        return json.loads(raw)
    except json.JSONDecodeError as exc:
        raise LineError(f"invalid JSON: {exc.msg} (column {exc.colno})") from None


def result_record(n: int, t: Transfer, s: Screening) -> dict[str, Any]:
    return {
        "line": n,
        "id": t.id,
        "verdict": s.verdict.value,
        "jurisdictions": {f"{c}/{r}": v.value for c, r, v in s.jurisdictions},
        "deciding_rules": list(s.deciding_rules),
    }


def format_record(rec: dict[str, Any], fmt: str) -> str:
    if fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow(
            [
                rec["line"],
                "" if rec["id"] is None else rec["id"],
                rec["verdict"],
                ";".join(f"{k}={v}" for k, v in rec["jurisdictions"].items()),
                ";".join(rec["deciding_rules"]),
            ]
        )
        return buf.getvalue()
    return json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n"


WORKER: dict[str, Any] = {}
"""The screener of a worker process (set by the CLI's pool initialiser)."""


def process_chunk(
    chunk: list[tuple[int, Any]], out_fmt: str, screener: BatchScreener | None = None
) -> tuple[str, list[tuple[int, str]]]:
    """Screen a chunk of parsed lines: (output text, [(line, error message)])."""
    bs = screener or WORKER["screener"]
    out: list[str] = []
    errors: list[tuple[int, str]] = []
    for n, raw in chunk:
        try:
            t = bs.check(_parse(raw))
        except LineError as exc:
            errors.append((n, str(exc)))
            continue
        s, tail = bs.screen(t)
        if out_fmt == "jsonl":
            tid = t.id
            ident = str(tid) if type(tid) is int else json.dumps(tid, ensure_ascii=False, separators=(",", ":"))
            out.append(f'{{"line":{n},"id":{ident},{tail}\n')
        else:
            out.append(format_record(result_record(n, t, s), out_fmt))
    return "".join(out), errors
