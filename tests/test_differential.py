"""Differential test: every backend gives the same answers on generated transfers.

20,000 transfers per run (fixed seeds): origin, licensor, components, via, transit, earlier
exports, contract dates, existing licences, every transfer kind and end user, and dates on every
rule and world-data cut ±1 day; the last part repeats with each shipped overlay. The explained
engine, the fast path (Screener), batch screening (its cache included) and the columnar backend
must agree on the overall verdict, each jurisdiction's verdict and the deciding rules.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any, Iterator

import numpy as np
import pytest

from policy.eval.batch import BatchScreener
from policy.eval.columnar import ColumnarJurisdiction, encode, verdict_words
from policy.eval.compiled import Screener
from policy.eval.engine import evaluate
from policy.load.overlays import apply_overlays
from policy.load.scenarios import scenario_from_data
from policy.load.yamlio import Document
from policy.model import Effect, Role, iter_leaves

from .conftest import ROOT

OVERLAYS = sorted(str(p) for p in (ROOT / "scenarios" / "what-if").glob("*.yaml"))


def cut_days(base) -> list[dt.date]:
    """Every day on which some answer can change, with the days either side."""
    days: set[dt.date] = set()
    for jf in base.jurisdictions.values():
        days |= jf.change_dates()
        for v in jf.views:
            days |= {d for d in (v.from_, v.until) if d}
    w = base.world
    entries = [*(m for g in w.groups.values() for m in g.members), *w.embargoes]
    for e in entries:
        days |= {d for d in (e.from_, e.until) if d}
    for c in w.conflicts:
        days |= c.change_dates()
    return sorted({d + dt.timedelta(days=k) for d in days for k in (-1, 0, 1) if d.year >= 1990})


def transfers(base, n: int, seed: int) -> Iterator[dict[str, Any]]:
    rng = random.Random(seed)
    states = sorted(c for c, j in base.jurisdictions.items() if j.kind == "state")
    recipients = states + ["UA", "RU", "KP", "IR", "SA", "AE", "YE", "IL", "TW", "SO", "CN", "VE", "MM", "SY", "ET"]
    items = sorted(base.items)
    days = cut_days(base)
    for i in range(n):
        item: dict[str, Any] = (
            {"id": rng.choice(items)}
            if rng.random() < 0.4
            else {
                "category": f"ML{rng.randint(1, 22)}",
                **({"lethal": rng.random() < 0.5} if rng.random() < 0.7 else {}),
            }
        )
        if rng.random() < 0.25:
            item["origin"] = rng.choice(states)
        if rng.random() < 0.08:
            item["licence"] = rng.choice(states)
        if rng.random() < 0.06:
            item["components"] = [{"name": "part", "origin": rng.choice(states)}]
        exporter = rng.choice(states)
        recipient = rng.choice([r for r in recipients if r != exporter])
        day = (
            rng.choice(days)
            if rng.random() < 0.7
            else dt.date(rng.randint(1995, 2026), rng.randint(1, 12), rng.randint(1, 28))
        )
        data: dict[str, Any] = {
            "id": f"t{i}",
            "title": "generated",
            "exporter": exporter,
            "recipient": recipient,
            "date": day.isoformat(),
            "end_user": rng.choice(["government", "military", "police", "private", "humanitarian", "non-state"]),
            "transfer": rng.choice(["sale", "donation", "loan", "re-export"]),
            "items": [item],
        }
        others = [s for s in states if s not in (exporter, recipient)]
        if rng.random() < 0.08:
            data["via"] = [rng.choice(others)]
        elif rng.random() < 0.1:
            data["transit"] = [rng.choice(others)]
        if rng.random() < 0.05:
            data["history"] = [{"from": rng.choice(["DE", *others[:3]]), "to": exporter}]
        if rng.random() < 0.05:
            data["contract_date"] = (day - dt.timedelta(days=rng.randint(0, 4000))).isoformat()
        if rng.random() < 0.05:
            data["existing_licence"] = {"granted": (day - dt.timedelta(days=rng.randint(1, 2000))).isoformat()}
        if rng.random() < 0.05:
            data["assume"] = {
                rng.choice(["risk.ihl_violation", "risk.diversion", "recipient.in_armed_conflict"]): rng.random() < 0.5
            }
        yield data


def _check_one(base, screener: Screener, batch: BatchScreener, data: dict[str, Any]) -> None:
    sc = scenario_from_data(Document("generated", data, None), base)
    d = evaluate(base, sc)
    s = screener.screen(sc)
    explained = [(j.jurisdiction, j.role.value, j.verdict) for j in d.jurisdictions]
    deciding = sorted(
        {
            f.rule.id
            for j in d.deciding
            for f in j.findings
            if f.status in ("fired", "conflict") and f.effect_verdict == j.verdict
        }
    )
    assert (s.verdict, list(s.jurisdictions), list(s.deciding_rules)) == (d.verdict, explained, deciding), data
    flat = len(sc.items) == 1 and not any(k in data for k in ("history", "contract_date", "existing_licence", "assume"))
    item = sc.items[0]
    if flat and not item.components:
        line = {k: data[k] for k in ("date", "exporter", "recipient", "end_user", "transfer")}
        raw = data["items"][0]
        line["item"] = raw.get("id") or raw["category"]
        for k_in, k_out in (("lethal", "lethal"), ("origin", "origin"), ("licence", "licence")):
            if k_in in raw:
                line[k_out] = raw[k_in]
        for k in ("via", "transit"):
            if k in data:
                line[k] = data[k]
        b, _ = batch.screen(batch.check(line))
        assert (b.verdict, list(b.jurisdictions), list(b.deciding_rules)) == (
            s.verdict,
            list(s.jurisdictions),
            list(s.deciding_rules),
        ), line


@pytest.mark.parametrize("part,n,seed", [(0, 5000, 11), (1, 5000, 12), (2, 5000, 13)])
def test_backends_agree_on_generated_transfers(shipped, part, n, seed):
    screener, batch = Screener(shipped), BatchScreener(shipped)
    for data in transfers(shipped, n, seed):
        _check_one(shipped, screener, batch, data)


@pytest.mark.parametrize("overlay", OVERLAYS, ids=[p.rsplit("/", 1)[-1] for p in OVERLAYS])
def test_backends_agree_under_each_overlay(shipped, overlay):
    base = apply_overlays(shipped, [overlay])
    screener, batch = Screener(base), BatchScreener(base)
    for data in transfers(base, 5000 // len(OVERLAYS), hash(overlay) % 1000):
        _check_one(base, screener, batch, data)


def test_columnar_agrees_with_the_fast_path_where_facts_are_known(shipped):
    """The columnar backend is two-valued: rows whose facts it reads are all known are compared."""
    screener = Screener(shipped)
    groups = shipped.world.group_kinds()
    compared = 0
    for code, jf in sorted(shipped.jurisdictions.items()):
        if any(r.effect is Effect.as_direct_export for r in jf.rules):
            continue
        role = Role.regime if jf.kind == "regime" else Role.exporter
        names = {leaf.fact for cond in [jf.binds, *(r.when for r in jf.rules)] for leaf, _ in iter_leaves(cond)}
        rows = []
        for data in transfers(shipped, 400, hash(code) % 1000):
            if jf.kind == "state":
                data = {**data, "exporter": code, "via": [], "transit": []}
                if data["recipient"] == code:
                    continue
            sc = scenario_from_data(
                Document("g", {k: v for k, v in data.items() if k not in ("via", "transit")}, None), shipped
            )
            facts = screener.seen_by(screener.compiled[code], sc, screener._facts(sc, sc.items[0]))
            if all(facts.get(nm) is not None for nm in names - {"item.id", "item.origin", "item.licence_origin"}):
                rows.append(facts)
        if not rows:
            continue
        col = ColumnarJurisdiction(jf, role, groups)
        cols = encode({k: [r.get(k) for r in rows] for k in sorted(names | {"date"})})
        got = verdict_words(col.verdicts(cols))
        from policy.eval.compiled import judge

        cj = screener.compiled[code]
        want = []
        for r in rows:
            if cj.binds is not None and cj.binds(r) is False:
                want.append("no say")
            else:
                want.append(judge(cj, role, r, r["date"])[0].value)
        assert got == want, code
        compared += len(rows)
    assert compared > 5000
    assert np.int8(0) == 0
