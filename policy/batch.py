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
from dataclasses import dataclass
from typing import Any, Iterable, Iterator

from .compiled import Screener, Screening
from .countries import is_country
from .facts import END_USERS, TRANSFERS
from .models import CATEGORY_RE, Scenario, ScenarioItem
from .rulebase import RuleBase

CSV_FIELDS = ["id", "date", "exporter", "recipient", "end_user", "transfer", "item", "lethal", "origin",
              "licence", "via"]
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
    chain = [exporter, *via, recipient]
    if len(set(chain)) != len(chain):
        raise LineError("the chain of holders visits a state twice: " + " -> ".join(chain))
    return Transfer((day, exporter, recipient, end_user, transfer, category, item_id, lethal, origin, licence, via),
                    d.get("id"))


def _scenario(key: tuple[Any, ...]) -> Scenario:
    day, exporter, recipient, end_user, transfer, category, item_id, lethal, origin, licence, via = key
    item = ScenarioItem.model_construct(id=item_id, name=item_id or category, category=category, lethal=lethal,
                                        origin=origin, licence_origin=licence, components=[], quantity=None)
    return Scenario.model_construct(id="batch", title="batch", kind="hypothetical", date=day, exporter=exporter,
                                    recipient=recipient, end_user=end_user, transfer=transfer, via=list(via),
                                    items=[item], assume={}, expect=None, expect_rules=[], expect_deciding=[],
                                    sources=[], note=None)


class BatchScreener:
    """A Screener with a bounded cache of results for repeated transfers."""

    def __init__(self, base: RuleBase, cache_size: int = 50_000) -> None:
        self.base = base
        self.screener = Screener(base)
        self.cache: dict[tuple[Any, ...], Screening] = {}
        self.cache_size = cache_size

    def screen(self, t: Transfer) -> Screening:
        hit = self.cache.get(t.key)
        if hit is None:
            hit = self.screener.screen(_scenario(t.key))
            if len(self.cache) >= self.cache_size:
                self.cache.clear()  # bounded memory; a clear is cheaper than LRU bookkeeping
            self.cache[t.key] = hit
        return hit


def read_lines(stream: Iterable[str], fmt: str) -> Iterator[tuple[int, Any]]:
    """(line number, parsed mapping or LineError) for each non-empty input line."""
    if fmt == "csv":
        reader = csv.DictReader(stream)
        for row in reader:
            yield reader.line_num, {k: v for k, v in row.items() if v not in (None, "") and k is not None}
        return
    for n, line in enumerate(stream, 1):
        if not line.strip():
            continue
        try:
            yield n, json.loads(line)
        except json.JSONDecodeError as exc:
            yield n, LineError(f"invalid JSON: {exc.msg} (column {exc.colno})")


def result_record(n: int, t: Transfer, s: Screening) -> dict[str, Any]:
    return {"line": n, "id": t.id, "verdict": s.verdict.value,
            "jurisdictions": {f"{c}/{r}": v.value for c, r, v in s.jurisdictions},
            "deciding_rules": list(s.deciding_rules)}


def format_record(rec: dict[str, Any], fmt: str) -> str:
    if fmt == "csv":
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\n").writerow([
            rec["line"], "" if rec["id"] is None else rec["id"], rec["verdict"],
            ";".join(f"{k}={v}" for k, v in rec["jurisdictions"].items()), ";".join(rec["deciding_rules"])])
        return buf.getvalue()
    return json.dumps(rec, ensure_ascii=False, separators=(",", ":")) + "\n"


# ------------------------------------------------------------------ parallel workers

_WORKER: dict[str, Any] = {}


def _init_worker(paths: list[str], overlays: list[str]) -> None:
    from .loader import apply_overlays, load_rulebase

    base = load_rulebase(paths)
    if overlays:
        base = apply_overlays(base, overlays)
    _WORKER["screener"] = BatchScreener(base)


def process_chunk(chunk: list[tuple[int, Any]], out_fmt: str, screener: BatchScreener | None = None
                  ) -> tuple[str, list[tuple[int, str]]]:
    """Screen a chunk of parsed lines: (output text, [(line, error message)])."""
    bs = screener or _WORKER["screener"]
    out: list[str] = []
    errors: list[tuple[int, str]] = []
    for n, d in chunk:
        try:
            if isinstance(d, LineError):
                raise d
            t = check_line(d, bs.base)
        except LineError as exc:
            errors.append((n, str(exc)))
            continue
        out.append(format_record(result_record(n, t, bs.screen(t)), out_fmt))
    return "".join(out), errors
