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
    """A checked input line, hashable so repeated transfers are screened once."""

    key: tuple[Any, ...]
    id: Any


def _country(v: Any, field: str) -> str:
    if not isinstance(v, str) or not is_country(v.upper()):
        raise LineError(f"`{field}`: `{v}` is not an ISO 3166-1 alpha-2 country code")
    return v.upper()


def check_line(d: Any, base: RuleBase) -> Transfer:
    """Validate one transfer given as a mapping; raise LineError with a message for people."""
    if not isinstance(d, dict):
        raise LineError("expected an object with the transfer's fields")
    unknown = set(d) - set(CSV_FIELDS)
    if unknown:
        raise LineError(f"unknown field `{sorted(unknown)[0]}` (fields: {', '.join(CSV_FIELDS)})")
    for req in ("date", "exporter", "recipient", "item"):
        if d.get(req) in (None, ""):
            raise LineError(f"missing `{req}`")
    try:
        day = dt.date.fromisoformat(str(d["date"]))
    except ValueError:
        raise LineError(f"`date`: `{d['date']}` is not a date (YYYY-MM-DD)") from None
    exporter, recipient = _country(d["exporter"], "exporter"), _country(d["recipient"], "recipient")
    end_user = d.get("end_user") or "military"
    if end_user not in END_USERS:
        raise LineError(f"`end_user`: `{end_user}` is not one of {', '.join(END_USERS)}")
    transfer = d.get("transfer") or "sale"
    if transfer not in TRANSFERS:
        raise LineError(f"`transfer`: `{transfer}` is not one of {', '.join(TRANSFERS)}")
    item = str(d["item"])
    lethal = d.get("lethal")
    if isinstance(lethal, str):
        if lethal.lower() not in ("", "true", "false"):
            raise LineError(f"`lethal`: `{lethal}` is not true or false")
        lethal = None if lethal == "" else lethal.lower() == "true"
    if CATEGORY_RE.match(item):
        category, item_id = item, None
    elif item in base.items:
        category, item_id = base.items[item].category, item
        if lethal is None:
            lethal = base.items[item].lethal
    else:
        raise LineError(f"`item`: `{item}` is neither an ML category nor a catalogue item")
    origin = _country(d["origin"], "origin") if d.get("origin") else None
    licence = _country(d["licence"], "licence") if d.get("licence") else None
    via_raw = d.get("via") or []
    via = tuple(_country(v, "via") for v in (via_raw.split(";") if isinstance(via_raw, str) else via_raw) if v)
    tr_raw = d.get("transit") or []
    transit = tuple(_country(v, "transit") for v in (tr_raw.split(";") if isinstance(tr_raw, str) else tr_raw) if v)
    chain = [exporter, *via, *transit, recipient]
    if len(set(chain)) != len(chain):
        raise LineError("the chain of holders visits a state twice: " + " -> ".join(chain))
    return Transfer(
        (day, exporter, recipient, end_user, transfer, category, item_id, lethal, origin, licence, via, transit),
        d.get("id"),
    )


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


class BatchScreener:
    """A Screener with a bounded cache of results for repeated transfers.

    Verdicts depend on a transfer's date only through the dates where a rule or a world entry
    starts or ends, so the cache key holds the date's interval, not the date: an order book
    with many similar lines is screened once per distinct transfer and interval.
    """

    def __init__(self, base: RuleBase, cache_size: int = 20_000) -> None:
        self.base = base
        self.screener = Screener(base)
        self.cache: dict[tuple[Any, ...], tuple[Screening, str]] = {}
        self.cache_size = cache_size
        cuts: set[dt.date] = set()
        for jf in base.jurisdictions.values():
            for r in jf.rules:
                if r.from_:
                    cuts.add(r.from_)
                if r.until:
                    cuts.add(r.until + dt.timedelta(days=1))
                for leaf, _ in iter_leaves(r.when):
                    if leaf.fact == "date":
                        for v in leaf.value if isinstance(leaf.value, list) else [leaf.value]:
                            d = dt.date.fromisoformat(str(v))
                            cuts.update({d, d + dt.timedelta(days=1)})
        self.cuts = sorted(cuts)

    def screen(self, t: Transfer) -> tuple[Screening, str]:
        """The screening and its JSON tail (everything after the line number and id)."""
        day, exporter, recipient = t.key[0], t.key[1], t.key[2]
        slot = (
            bisect_right(self.cuts, day),
            self.screener.builder._slot(exporter, day),
            self.screener.builder._slot(recipient, day),
        )
        key = slot + t.key[1:]
        hit = self.cache.get(key)
        if hit is None:
            s = self.screener.screen(_scenario(t.key))
            hit = (s, _tail(s))
            if len(self.cache) >= self.cache_size:
                self.cache.clear()  # bounded memory; a clear is cheaper than LRU bookkeeping
            self.cache[key] = hit
        return hit


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
            t = check_line(_parse(raw), bs.base)
        except LineError as exc:
            errors.append((n, str(exc)))
            continue
        s, tail = bs.screen(t)
        if out_fmt == "jsonl":
            out.append(f'{{"line":{n},"id":{json.dumps(t.id, ensure_ascii=False)},{tail}\n')
        else:
            out.append(format_record(result_record(n, t, s), out_fmt))
    return "".join(out), errors
