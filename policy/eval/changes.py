"""When a transfer's answer can change: the one list of candidate dates, and what happens on each.

A transfer's verdict on a day depends only on

- the rules in force, the views held and the dates tested by the jurisdictions that may have a
  say (the exporter, each intermediate holder and transit state, each state asked for consent, every
  regime): ``RuleFile.change_dates``;
- the world facts about the states whose facts those rules read (the exporter, each intermediate
  holder, each state judged through a direct transfer of its own, and the recipient): memberships,
  conflicts with their truces and parties joining or leaving, embargoes and their grandfather
  clauses. These are the screener's per-country ``FactBuilder.breaks``, plus the day an embargo's
  grandfather clause stops sparing new contracts (``exempt_contracts_before``: a transfer without a
  contract date counts as concluded on its own date);
- the transfer's own dates: a licence it states being granted, suspended or revoked.

Between two consecutive dates of :func:`change_dates` none of these changes, so neither does the
verdict. ``policy timeline`` evaluates exactly these dates; ``why-not``'s date search and the atlas
cut time with the same pieces (:func:`world_change_dates`, :func:`world_breaks`).
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Iterable

from policy.eval.compiled import FactBuilder
from policy.eval.core import consent_claimants
from policy.model import Rule, RuleFile, Scenario, View, iter_leaves
from policy.model.rulebase import RuleBase

DAY = dt.timedelta(days=1)
_DATE_FACTS = ("date", "contract_date")


def world_breaks(base: RuleBase, builder: FactBuilder | None = None) -> dict[str, list[dt.date]]:
    """Per country, the sorted days on which a world fact about it can change.

    The screener's own ``FactBuilder.breaks``, defined once there: memberships, conflicts with
    truces and parties, embargoes, the end of their exemptions, and each grandfather clause's
    ``exempt_contracts_before`` (from that day a transfer stating no contract date, so taken as
    concluded that day, is no longer spared).
    """
    fb = builder if builder is not None else FactBuilder(base)
    return {country: list(days) for country, days in sorted(fb.breaks.items())}


def world_change_dates(
    base: RuleBase, countries: Iterable[str], breaks: dict[str, list[dt.date]] | None = None
) -> set[dt.date]:
    """The days on which a world fact about one of ``countries`` can change (see :func:`world_breaks`)."""
    wb = breaks if breaks is not None else world_breaks(base)
    return {d for c in countries for d in wb.get(c, ())}


def involved(base: RuleBase, sc: Scenario) -> tuple[set[str], list[str]]:
    """(states whose world facts a rule may read, jurisdictions whose rules may be consulted) for a transfer.

    The first: the exporter, the intermediate holders (each judged as exporter of a re-export), the
    states that may claim a say (their own direct transfer may be judged) and the recipient. The
    second: those of the first with a rule file, except the recipient, plus transit states and
    every regime. Generous on purpose: a state that turns out to have no say adds dates on which
    nothing changes, never a missed one.
    """
    exporters = {sc.exporter, *sc.via}
    for item in sc.items:
        exporters |= {state for _role, state in consent_claimants(sc, item)}
        exporters |= {c.origin for c in item.components}
    codes = {c for c in exporters | set(sc.transit) if c in base.jurisdictions}
    codes |= {code for code, jf in base.jurisdictions.items() if jf.kind == "regime"}
    return exporters | {sc.recipient}, sorted(codes)


def change_dates(
    base: RuleBase,
    sc: Scenario,
    start: dt.date | None = None,
    end: dt.date | None = None,
    breaks: dict[str, list[dt.date]] | None = None,
) -> list[dt.date]:
    """The sorted days in (``start``, ``end``] on which anything this transfer's verdict depends on
    can change: between two of them (and from ``start`` to the first) the verdict is constant."""
    countries, codes = involved(base, sc)
    days = world_change_dates(base, countries, breaks)
    for code in codes:
        days |= base.jurisdictions[code].change_dates()
    days |= _licence_dates(sc)
    return sorted(d for d in days if (start is None or start < d) and (end is None or d <= end))


def _licence_dates(sc: Scenario) -> set[dt.date]:
    lic = sc.existing_licence
    if lic is None:
        return set()
    return {d for d in (lic.granted, lic.suspended, lic.revoked) if d is not None}


def change_events(base: RuleBase, sc: Scenario, day: dt.date) -> tuple[list[str], list[str]]:
    """What happens on ``day`` among what this transfer depends on: (rule events, world events),
    each sorted, e.g. ``de.view.israel-self-defence-2023 starts``, ``truce in conflict X begins``.

    The words for the dates of :func:`change_dates`: every one of them has at least one.
    """
    countries, codes = involved(base, sc)
    rules: set[str] = set()
    for code in codes:
        rules |= _rule_events(base.jurisdictions[code], day)
    world = _world_events(base, countries, day)
    lic = sc.existing_licence
    if lic is not None:
        for what, when in (("granted", lic.granted), ("suspended", lic.suspended), ("revoked", lic.revoked)):
            if when == day:
                world.add(f"the existing licence is {what}")
    return sorted(rules), sorted(world)


def _period_events(
    name: str, start: dt.date | None, until: dt.date | None, day: dt.date, words: tuple[str, str]
) -> list[str]:
    out = []
    if start == day:
        out.append(f"{name} {words[0]}")
    if until is not None and until + DAY == day:
        out.append(f"{name} {words[1]}")
    return out


def _rule_events(jf: RuleFile, day: dt.date) -> set[str]:
    out: set[str] = set()
    dated: list[Rule | View] = [*jf.rules, *jf.views]
    for r in dated:
        out.update(_period_events(r.id, r.from_, r.until, day, ("starts", "ends")))
    tests: list[tuple[str, Any]] = [(f"{jf.jurisdiction} binding", jf.binds)]
    tests += [(r.id, r.when) for r in jf.rules]
    for name, cond in tests:
        for leaf, _ in iter_leaves(cond):
            if leaf.fact not in _DATE_FACTS or leaf.op == "exists":
                continue
            for v in leaf.value if isinstance(leaf.value, list) else [leaf.value]:
                d = v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))
                if day in (d, d + DAY):
                    out.add(f"{name} date test ({leaf.fact} {leaf.op} {d})")
    return out


def _world_events(base: RuleBase, countries: set[str], day: dt.date) -> set[str]:
    w = base.world
    out: set[str] = set()
    for g in w.groups.values():
        for m in g.members:
            if m.country in countries:
                out.update(_period_events(f"{g.id}: {m.country}", m.from_, m.until, day, ("begins", "ends")))
    for c in w.conflicts:
        if not countries & ({p.country for p in c.parties} | c.fought_on()):
            continue
        out.update(_period_events(f"conflict {c.id}", c.from_, c.until, day, ("begins", "ends")))
        for t in c.truces:
            out.update(_period_events(f"{t.kind} in conflict {c.id}", t.from_, t.until, day, ("begins", "ends")))
        for p in c.parties:
            out.update(
                _period_events(p.country, p.from_, p.until, day, (f"joins conflict {c.id}", f"leaves conflict {c.id}"))
            )
    for e in w.embargoes:
        if e.target not in countries:
            continue
        out.update(_period_events(f"embargo {e.id}", e.from_, e.until, day, ("begins", "ends")))
        if e.exempt_contracts_before == day:
            out.add(f"embargo {e.id}: contracts concluded from this day are not spared")
        if e.exemption_until is not None and e.exemption_until + DAY == day:
            out.add(f"embargo {e.id}: grandfather clause ends")
    return out


__all__ = ["change_dates", "change_events", "involved", "world_breaks", "world_change_dates"]
