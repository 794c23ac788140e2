"""The atlas: every exporter's verdict on every recipient, category, transfer and end user, over time.

For each encoded exporter (a state with a rule file), each country as recipient, each ML category
(lethal as the catalogue says, or both), each transfer kind and each end-user kind, the verdict is
given as intervals of constant verdict and deciding rules. A pair's dates are cut only where
something it depends on can change: a rule of the exporter or of a regime starts, ends or tests a
date (``RuleFile.change_dates``), or a world entry about the exporter or the recipient starts or ends
(membership, conflict, party, truce, embargo: the screener's ``FactBuilder.breaks``).

It is computed exhaustively with the compiled fast path (``Screener``), but each distinct question
is screened once: a date of a pair is reduced to a *situation* (the exporter's and regimes' rules in
force, the world facts their rules test as each jurisdiction sees them, and the recipient itself
only where a rule names it), and a situation's answers for every category, transfer and end user are
reused wherever it recurs; within a situation, categories that no rule tells apart share a result.
"""

from __future__ import annotations

import datetime as dt
import time
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any, Iterable

import numpy as np

from policy.analysis.catalogue import countries
from policy.eval.compiled import Screener, Screening
from policy.model import Effect, RuleFile, category_within, iter_leaves
from policy.model.contract import END_USERS, TRANSFERS
from policy.model.rulebase import RuleBase

DEFAULT_START = dt.date(2000, 1, 1)
EPOCH = dt.date(1970, 1, 1)
OPEN = -1
"""An interval's last day when it is still open: the verdict holds as far as the rules and data know."""


@dataclass(frozen=True)
class Combo:
    """One question about a pair: what category (and lethality), how transferred, to whom."""

    category: str
    lethal: bool
    transfer: str
    end_user: str


@dataclass(frozen=True)
class Outcome:
    """A verdict, the jurisdictions whose verdict it is, and the rules that decide it."""

    verdict: str
    deciding: tuple[str, ...]
    rules: tuple[str, ...]


@dataclass
class Atlas:
    """The atlas as columns: row ``i`` is exporter ``exporters[exporter[i]]`` ... from day ``start[i]``
    to day ``end[i]`` inclusive (days since 1970-01-01; ``OPEN`` when still in force), with
    ``outcomes[outcome[i]]``. Rows are sorted by exporter, recipient, combination, start."""

    start_date: dt.date
    end_date: dt.date | None
    exporters: list[str]
    recipients: list[str]
    combos: list[Combo]
    outcomes: list[Outcome]
    exporter: np.ndarray
    recipient: np.ndarray
    combo: np.ndarray
    start: np.ndarray
    end: np.ndarray
    outcome: np.ndarray
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return int(len(self.exporter))

    def row(self, i: int) -> dict[str, Any]:
        """Row ``i`` as plain values (dates as ``datetime.date``, ``until`` None when open)."""
        c = self.combos[int(self.combo[i])]
        o = self.outcomes[int(self.outcome[i])]
        end = int(self.end[i])
        return {
            "exporter": self.exporters[int(self.exporter[i])],
            "recipient": self.recipients[int(self.recipient[i])],
            "category": c.category,
            "lethal": c.lethal,
            "transfer": c.transfer,
            "end_user": c.end_user,
            "from": day_of(int(self.start[i])),
            "until": None if end == OPEN else day_of(end),
            "verdict": o.verdict,
            "deciding": list(o.deciding),
            "deciding_rules": list(o.rules),
        }


def day_number(d: dt.date) -> int:
    return (d - EPOCH).days


def day_of(n: int) -> dt.date:
    return EPOCH + dt.timedelta(days=n)


def category_order(code: str) -> tuple[int, str]:
    """ML2 before ML10."""
    head, _, rest = code.partition(".")
    return (int(head[2:]) if head[2:].isdigit() else 99, rest)


def encoded_exporters(base: RuleBase) -> list[str]:
    """States with a rule file (regimes are not exporters)."""
    return sorted(code for code, jf in base.jurisdictions.items() if jf.kind != "regime")


class _Transfer:
    """A transfer or item as plain attributes with pydantic's ``model_copy(update=...)`` shape."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def model_copy(self, update: dict[str, Any]) -> "_Transfer":
        return _Transfer(**{**self.__dict__, **update})


_NONE: dict[str, Any] = {}


def _item(category: str, lethal: bool | None) -> _Transfer:
    return _Transfer(
        id=None, name=category, category=category, lethal=lethal, origin=None, licence_origin=None, components=()
    )


def _transfer(day: dt.date, exporter: str, recipient: str, end_user: str, transfer: str, item: Any) -> _Transfer:
    return _Transfer(
        id="atlas",
        date=day,
        exporter=exporter,
        recipient=recipient,
        end_user=end_user,
        transfer=transfer,
        via=(),
        transit=(),
        items=(item,),
        assume=_NONE,
    )


@dataclass
class _Reads:
    """What the rules of an exporter and of the regimes read."""

    facts: set[str]
    named_recipients: set[str]
    within: list[str]
    category_by_value: bool


def _reads(files: Iterable[RuleFile]) -> _Reads:
    out = _Reads(set(), set(), [], False)
    within: set[str] = set()
    for jf in files:
        for cond in [jf.binds, *(r.when for r in jf.rules)]:
            for leaf, _ in iter_leaves(cond):
                out.facts.add(leaf.fact)
                values = leaf.value if isinstance(leaf.value, list) else [leaf.value]
                if leaf.fact == "recipient":
                    out.named_recipients |= {str(v) for v in values}
                if leaf.fact == "item.category":
                    if leaf.op == "within":
                        within |= {str(v) for v in values}
                    elif leaf.op != "exists":
                        out.category_by_value = True
        if any(r.effect is Effect.as_direct_export for r in jf.rules):
            out.facts.add("transfer")  # the nested direct export is a sale
    out.within = sorted(within)
    return out


def combos_for(
    base: RuleBase, categories: list[str], transfers: list[str], end_users: list[str], both: bool
) -> list[Combo]:
    """Every combination, in output order: category, lethality, transfer, end user."""
    out = []
    for cat in categories:
        lethal = [False, True] if both else [base.categories[cat].lethal]
        for leth in lethal:
            for tr in transfers:
                for eu in end_users:
                    out.append(Combo(cat, leth, tr, eu))
    return out


def build_atlas(
    base: RuleBase,
    start: dt.date = DEFAULT_START,
    end: dt.date | None = None,
    exporters: list[str] | None = None,
    recipients: list[str] | None = None,
    categories: list[str] | None = None,
    transfers: list[str] | None = None,
    end_users: list[str] | None = None,
    both_lethalities: bool = False,
    screener: Screener | None = None,
) -> Atlas:
    """The atlas from ``start`` to ``end`` (None: open-ended; the last interval of each cell is open).

    ``exporters`` default to every encoded exporter, ``recipients`` to every country, and the other
    dimensions to all their values; the lists are taken in the order given after sorting.
    """
    t0, c0 = time.perf_counter(), time.process_time()
    s = screener or Screener(base)
    b = s.builder
    ex_codes = sorted(exporters) if exporters is not None else encoded_exporters(base)
    rec_codes = sorted(recipients) if recipients is not None else [c.code for c in countries(base)]
    cats = sorted(categories if categories is not None else base.categories, key=category_order)
    trs = [t for t in TRANSFERS if transfers is None or t in transfers]
    eus = [e for e in END_USERS if end_users is None or e in end_users]
    combos = combos_for(base, cats, trs, eus, both_lethalities)
    n_combo = len(combos)
    sig_index = np.array(
        [eus.index(cb.end_user) * len(cats) + cats.index(cb.category) for cb in combos], dtype=np.int64
    )
    end_n = day_number(end) if end is not None else None

    regimes = [jf for jf in base.jurisdictions.values() if jf.kind == "regime"]
    regime_cuts: set[dt.date] = set()
    for jf in regimes:
        regime_cuts |= jf.change_dates()
    viewers = [s.compiled[jf.jurisdiction] for jf in regimes if jf.views]
    targets = {e.target for e in base.world.embargoes}
    blank = _item(cats[0], None) if cats else None

    outcomes: list[Outcome] = []
    outcome_ids: dict[Outcome, int] = {}
    embargo_sigs: dict[tuple[str, int], tuple[int, ...]] = {}
    embargo_ids: dict[tuple[Any, ...], int] = {}
    cols: dict[str, list[np.ndarray]] = {k: [] for k in ("exporter", "recipient", "combo", "start", "end", "outcome")}
    n_points = n_situations = n_screens = 0

    def intern(sc: Screening) -> int:
        v = sc.verdict
        o = Outcome(
            v.value,
            tuple(sorted({code for code, _, jv in sc.jurisdictions if jv is v})),
            tuple(sc.deciding_rules),
        )
        i = outcome_ids.get(o)
        if i is None:
            i = outcome_ids[o] = len(outcomes)
            outcomes.append(o)
        return i

    for ei, e in enumerate(ex_codes):
        jf = base.jurisdictions[e]
        cj = s.compiled[e]
        reads = _reads([jf, *regimes])
        derived = [n for n in (*b.recipient_names, *b.exporter_names) if n in reads.facts]
        embargo = [n for n in b.embargo_names if n in reads.facts]
        rule_cuts = sorted(jf.change_dates() | regime_cuts)
        e_breaks = set(b.breaks.get(e, ()))
        by_transfer = "transfer" in reads.facts
        by_end_user = "end_user" in reads.facts
        cat_class = {
            c: c if reads.category_by_value else tuple(category_within(c, p) for p in reads.within) for c in cats
        }
        # combinations that no rule of this exporter or a regime tells apart (embargo facts aside)
        class_of: dict[tuple[Any, ...], int] = {}
        combo_class = np.array(
            [
                class_of.setdefault(
                    (
                        cat_class[cb.category],
                        cb.lethal,
                        cb.transfer if by_transfer else None,
                        cb.end_user if by_end_user else None,
                    ),
                    len(class_of),
                )
                for cb in combos
            ],
            dtype=np.int64,
        )
        situations: dict[tuple[Any, ...], np.ndarray] = {}

        def embargo_sig(r: str, day: dt.date, slot: int, e: str = e) -> tuple[int, ...]:
            """The embargo facts for every end user and category, each interned as a number;
            one value where no embargo targets ``r`` (then they are the same for all)."""
            key = (r, slot)
            hit = embargo_sigs.get(key)
            if hit is None:
                todo = [(eu, c) for eu in eus for c in cats] if r in targets else [(eus[0], cats[0])]
                hit = tuple(
                    embargo_ids.setdefault(
                        tuple(b.build(_transfer(day, e, r, eu, "sale", it), it)[n] for n in b.embargo_names),
                        len(embargo_ids),
                    )
                    for eu, c in todo
                    for it in [_item(c, None)]
                )
                embargo_sigs[key] = hit
            return hit

        for r in rec_codes:
            if r == e:
                continue
            r_breaks = b.breaks.get(r, [])
            cuts = sorted({d for d in (*rule_cuts, *e_breaks, *r_breaks) if d > start and (end is None or d <= end)})
            days = [start, *cuts]
            ids = np.empty((len(days), n_combo), dtype=np.int32)
            for k, day in enumerate(days):
                n_points += 1
                assert blank is not None
                probe = _transfer(day, e, r, "military", "sale", blank)
                facts = b.build(probe, blank)
                seen = s.seen_by(cj, probe, facts)
                slot = bisect_right(r_breaks, day)
                sig = embargo_sig(r, day, slot) if embargo else ()
                key = (
                    bisect_right(rule_cuts, day),
                    r if r in reads.named_recipients else None,
                    tuple(seen[n] for n in derived),
                    tuple(facts[n] for n in derived) if seen is not facts else None,
                    tuple(tuple(s.seen_by(v, probe, facts)[n] for n in derived) for v in viewers),
                    sig,
                )
                row = situations.get(key)
                if row is None:
                    n_situations += 1
                    # distinct (class, embargo facts) pairs: one screening each
                    esig = np.asarray(sig, dtype=np.int64)[sig_index] if len(sig) > 1 else np.zeros(n_combo, np.int64)
                    pair = combo_class * (len(embargo_ids) + 1) + esig
                    _, first, inverse = np.unique(pair, return_index=True, return_inverse=True)
                    answers = np.empty(len(first), dtype=np.int32)
                    for j, ci in enumerate(first.tolist()):
                        cb = combos[ci]
                        it = _item(cb.category, cb.lethal)
                        answers[j] = intern(s.screen(_transfer(day, e, r, cb.end_user, cb.transfer, it)))
                    n_screens += len(first)
                    row = answers[inverse.reshape(-1)]
                    situations[key] = row
                ids[k] = row
            _merge(ids, [day_number(d) for d in days], end_n, ei, rec_codes.index(r), cols)
    cat = {k: np.concatenate(v) if v else np.empty(0, dtype=np.int32) for k, v in cols.items()}
    atlas = Atlas(
        start,
        end,
        ex_codes,
        rec_codes,
        combos,
        outcomes,
        cat["exporter"],
        cat["recipient"],
        cat["combo"],
        cat["start"],
        cat["end"],
        cat["outcome"],
    )
    atlas.stats = {
        "rows": atlas.rows,
        "cells": int(sum(1 for e in ex_codes for r in rec_codes if r != e)) * n_combo,
        "dates": n_points,
        "situations": n_situations,
        "screened": n_screens,
        "seconds": time.perf_counter() - t0,
        "cpu_seconds": time.process_time() - c0,
    }
    return atlas


def _merge(
    ids: np.ndarray, days: list[int], end_n: int | None, ei: int, ri: int, cols: dict[str, list[np.ndarray]]
) -> None:
    """Rows for one pair: per combination, a row where its outcome changes (``ids``: dates × combinations)."""
    n_days, n_combo = ids.shape
    change = np.ones((n_combo, n_days), dtype=bool)
    t = ids.T
    change[:, 1:] = t[:, 1:] != t[:, :-1]
    combo, seg = np.nonzero(change)  # row-major: by combination, then date
    day_arr = np.asarray(days, dtype=np.int32)
    starts = day_arr[seg]
    ends = np.full(len(seg), OPEN if end_n is None else end_n, dtype=np.int32)
    same = combo[1:] == combo[:-1]
    ends[:-1][same] = starts[1:][same] - 1
    n = len(seg)
    cols["exporter"].append(np.full(n, ei, dtype=np.int16))
    cols["recipient"].append(np.full(n, ri, dtype=np.int16))
    cols["combo"].append(combo.astype(np.int32))
    cols["start"].append(starts)
    cols["end"].append(ends)
    cols["outcome"].append(t[combo, seg])


__all__ = ["Atlas", "Combo", "Outcome", "build_atlas", "encoded_exporters", "DEFAULT_START", "OPEN"]
