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
from typing import TYPE_CHECKING, Any

from policy.model.contract import (
    END_USERS,
    TRANSFERS,
    ContractError,
    check_chain,
    read_choice,
    read_country,
    read_date,
    read_flag,
    read_item,
)
from policy.model.errors import Diagnostic, LoadError

if TYPE_CHECKING:  # the compiled screener and the model are imported when a screener is built
    from policy.eval.compiled import Screening
    from policy.model.rulebase import RuleBase

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
    """A bad input line: ``code`` is the transfer contract's error code, the message says what is wrong."""

    def __init__(self, message: str, code: str = "bad-line") -> None:
        super().__init__(message)
        self.code = code


@dataclass
class Transfer:
    """A checked input line: ``key`` holds every field that can change the verdict, ``id`` the rest.

    ``key`` is (date, exporter, recipient, end user, transfer, category, catalogue id, lethal,
    origin, licence, via, transit); ``BatchScreener.key`` turns it into the cache key. A
    scenario-shaped line (``items: [...]``) carries its validated ``scenario`` instead and is
    screened without the cache.
    """

    key: tuple[Any, ...]
    id: Any
    scenario: Any = None


_FIELDS = frozenset(CSV_FIELDS)
_SHAPED_FIELDS = frozenset(
    {
        "id",
        "date",
        "exporter",
        "recipient",
        "end_user",
        "transfer",
        "via",
        "transit",
        "items",
        "contract_date",
        "existing_licence",
    }
)
_REQUIRED = ("date", "exporter", "recipient", "item")
_MEMO_LIMIT = 50_000


def _contract(field: str, read: Any, *args: Any) -> Any:
    try:
        return read(*args)
    except ContractError as exc:
        raise LineError(f"`{field}`: {exc.message}", exc.code) from None


def line_day(v: Any) -> dt.date:
    """A line's `date` (the rules are not needed to read one)."""
    return _contract("date", read_date, v)  # type: ignore[no-any-return]


def line_country(v: Any, field: str) -> str:
    """A line's state in ``field``, as its code (the rules are not needed to read one)."""
    return _contract(field, read_country, v)  # type: ignore[no-any-return]


class LineChecker:
    """Checks input lines with the transfer contract (``policy.contract``), as a scenario's loader does.

    Order books repeat dates, states and items on many lines, so each distinct value is checked
    once and remembered (the memos are bounded, so memory stays flat). ``text`` is set for CSV,
    whose cells are all strings (`true`/`false` are then booleans).
    """

    def __init__(self, base: RuleBase, text: bool = False) -> None:
        self.base = base
        self.text = text
        self._days: dict[Any, dt.date] = {}
        self._countries: dict[Any, str] = {}
        self._items: dict[str, tuple[str, str | None, bool | None]] = {}

    def day(self, v: Any) -> dt.date:
        day = self._days.get(v) if isinstance(v, str) else None
        if day is None:
            day = line_day(v)
            if len(self._days) >= _MEMO_LIMIT:
                self._days.clear()
            self._days[v] = day
        return day

    def country(self, v: Any, field: str) -> str:
        code = self._countries.get(v) if isinstance(v, str) else None
        if code is None:
            code = line_country(v, field)
            if len(self._countries) >= _MEMO_LIMIT:
                self._countries.clear()
            self._countries[v] = code
        return code

    def _states(self, raw: Any, field: str) -> tuple[str, ...]:
        """A list of states: a JSON list, or codes separated by `;` (CSV)."""
        if raw is None or raw == "" or raw == []:
            return ()
        if isinstance(raw, str) and self.text:
            raw = [v.strip() for v in raw.split(";")]
        elif not isinstance(raw, list):
            raise LineError(f"`{field}`: expected a list of states, got `{json.dumps(raw)}`", "bad-value")
        return tuple(self.country(v, field) for v in raw if v)

    def item(self, item: Any) -> tuple[str, str | None, bool | None]:
        """(category, catalogue id or None, the catalogue's lethality or None)."""
        hit = self._items.get(item) if isinstance(item, str) else None
        if hit is None:
            category, item_id = _contract("item", read_item, item, self.base.items)
            if item_id is not None:
                entry = self.base.items[item_id]
                hit = (entry.category, item_id, entry.lethal)
            else:
                hit = (category, None, None)
            if len(self._items) >= _MEMO_LIMIT:
                self._items.clear()
            self._items[item] = hit
        return hit

    def check(self, d: Any) -> Transfer:
        """Validate one transfer given as a mapping; raise LineError with a message for people."""
        if type(d) is not dict:
            raise LineError("expected an object with the transfer's fields", "bad-line")
        if "items" in d:
            return self._shaped(d)
        if not _FIELDS.issuperset(d):
            unknown = sorted(set(d) - _FIELDS)[0]
            raise LineError(f"unknown field `{unknown}` (fields: {', '.join(CSV_FIELDS)}, or `items`)", "unknown-field")
        get = d.get
        for req in _REQUIRED:
            if get(req) is None:
                raise LineError(f"missing `{req}`", "missing-field")
        day = self.day(d["date"])
        exporter = self.country(d["exporter"], "exporter")
        recipient = self.country(d["recipient"], "recipient")
        end_user = get("end_user")
        end_user = "military" if end_user in (None, "") else _contract("end_user", read_choice, end_user, END_USERS)
        transfer = get("transfer")
        transfer = "sale" if transfer in (None, "") else _contract("transfer", read_choice, transfer, TRANSFERS)
        lethal = get("lethal")
        if lethal is not None and not (self.text and lethal == ""):
            lethal = _contract("lethal", read_flag, lethal, self.text)
        else:
            lethal = None
        category, item_id, item_lethal = self.item(d["item"])
        if lethal is None:
            lethal = item_lethal
        origin = get("origin")
        origin = self.country(origin, "origin") if origin not in (None, "") else None
        licence = get("licence")
        licence = self.country(licence, "licence") if licence not in (None, "") else None
        via = self._states(get("via"), "via")
        transit = self._states(get("transit"), "transit")
        pos, problem = check_chain(exporter, via, transit, recipient)
        if pos >= 0:
            raise LineError(problem.message, problem.code)
        return Transfer(
            (day, exporter, recipient, end_user, transfer, category, item_id, lethal, origin, licence, via, transit),
            get("id"),
        )

    def _shaped(self, d: dict[str, Any]) -> Transfer:
        """A scenario-shaped line (``items`` with components, origin, licence): the scenario loader checks it."""
        if self.text:
            raise LineError("CSV lines are flat: use `item`, not `items`", "unknown-field")
        unknown = sorted(set(d) - _SHAPED_FIELDS)
        if unknown:
            raise LineError(
                f"unknown field `{unknown[0]}` in a line with `items` (fields: {', '.join(sorted(_SHAPED_FIELDS))})",
                "unknown-field",
            )
        from policy.load.scenarios import scenario_from_data
        from policy.load.yamlio import Document

        data = {k: v for k, v in d.items() if k != "id"}
        try:
            sc = scenario_from_data(
                Document("line", {"id": "batch-line", "title": "batch line", **data}, None), self.base
            )
        except LoadError as exc:
            first = sorted(exc.diagnostics, key=Diagnostic.sort_key)[0]
            raise LineError(first.message, first.code) from None
        return Transfer((), d.get("id"), sc)


class _Lite:
    """A transfer or item as plain attributes, with pydantic's ``model_copy(update=...)`` shape.

    Batch lines are already checked, so building pydantic models for each would only cost time.
    """

    def __init__(self, fields: dict[str, Any]) -> None:
        self.__dict__ = fields

    def model_copy(self, update: dict[str, Any]) -> "_Lite":
        return _Lite({**self.__dict__, **update})


_NO_ASSUMPTIONS: dict[str, Any] = {}


def transfer_scenario(key: tuple[Any, ...]) -> Any:
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


def screening_tail(s: Screening) -> str:
    """The JSON of a screening after `{"line":..,"id":..,` (codes and ids are plain ASCII, checked at load)."""
    juris = ",".join(f'"{c}/{r}":"{v.value}"' for c, r, v in s.jurisdictions)
    rules = ",".join(f'"{r}"' for r in s.deciding_rules)
    return f'"verdict":"{s.verdict.value}","jurisdictions":{{{juris}}},"deciding_rules":[{rules}]}}'


def _tests(jf: Any, fact: str) -> bool:
    """Whether any rule of a jurisdiction (or its binding condition) tests ``fact``."""
    from policy.model import iter_leaves

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

    def __init__(self, base: RuleBase, cache_size: int = 100_000, text: bool = False) -> None:
        self.base = base
        from policy.eval.compiled import Screener

        self.screener = Screener(base)
        self.cache: dict[tuple[Any, ...], tuple[Screening, str]] = {}
        self.cache_size = cache_size
        self.checker = LineChecker(base, text)
        self.check = self.checker.check
        self._slot = self.screener.builder._slot
        self.state_cuts = {code: jf.change_dates() for code, jf in base.jurisdictions.items() if jf.kind != "regime"}
        self.regime_cuts: set[dt.date] = set()
        for jf in base.jurisdictions.values():
            if jf.kind == "regime":
                self.regime_cuts |= jf.change_dates()
        # Which catalogue item a line names matters only to rules that test `item.id`.
        self._item_id_states = {code for code, jf in base.jurisdictions.items() if _tests(jf, "item.id")}
        self._cuts: dict[tuple[str, ...], tuple[list[dt.date], bool]] = {}
        self._shared: dict[str, tuple[Screening, str]] = {}

    def participants(self, states: tuple[str, ...]) -> tuple[list[dt.date], bool]:
        """For the states that take part: their rules' cut dates, and whether any tests `item.id`."""
        hit = self._cuts.get(states)
        if hit is None:
            union = set(self.regime_cuts)
            for s in states:
                union |= self.state_cuts.get(s, set())
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
            cuts, item_id = self.participants((exporter,))
            return (
                bisect_right(cuts, day),
                slot(exporter, day),
                slot(recipient, day),
                *k[1:6],
                k[6] if item_id else None,
                *k[7:],
            )
        states = tuple(s for s in (exporter, origin, licence, *via, *transit) if s)
        cuts, item_id = self.participants(states)
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
        if t.scenario is not None:
            s = self.screener.screen(t.scenario)
            return s, screening_tail(s)
        key = self.key(t)
        hit = self.cache.get(key)
        if hit is None:
            s = self.screener.screen(transfer_scenario(t.key))
            tail = screening_tail(s)
            hit = self._shared.setdefault(tail, (s, tail))  # many keys share few distinct results
            if len(self.cache) >= self.cache_size:
                self.cache.clear()  # bounded memory; a clear is cheaper than LRU bookkeeping
                self._shared.clear()
            self.cache[key] = hit
        return hit


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
