"""Seeded generator of benchmark scenarios for policy.yaml.

Values are drawn from the countries, categories and end users the policy names
plus a few others, weighted so that every one of the 31 rules fires somewhere
in a few thousand scenarios. Same seed, same scenarios.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

EXPORTERS = ["DE", "FR", "IT", "SE", "US", "KR", "CH", "JP", "GB", "PL", "ES", "CA"]
# Named by the policy (embargoed, proscribed, moratoria, Swiss Annex 2) plus others.
HOT = ["RU", "CN", "MM", "SA", "IL", "UA", "BY", "CU", "IR", "KP", "SY", "VE"]
ANNEX_2 = ["AT", "AU", "BE", "CA", "DE", "DK", "ES", "FI", "FR", "GB", "IT", "JP", "NL", "NO", "NZ", "PL", "SE", "US"]
OTHERS = ["IN", "BR", "EG", "AE", "TR", "KR", "IE", "MX"]
NATO = {"BE", "CA", "DE", "DK", "ES", "FI", "FR", "GB", "IT", "NL", "NO", "PL", "SE", "US", "TR"}
EU = {"AT", "BE", "DE", "DK", "ES", "FI", "FR", "IE", "IT", "NL", "PL", "SE"}
CATEGORIES = [f"ML{i}" for i in range(1, 23)]
END_USERS = ["armed_forces", "police", "government_agency", "private_company", "humanitarian_org"]
TRANSFER_TYPES = ["sale", "donation", "re_export"]
ORIGINS = ["US", "DE", "CH", "FR", "SE", "KR", "GB", "IT"]
# Pairs that the date-bounded rules need, drawn now and then so that they fire.
FOCAL = [("GB", "IL"), ("DE", "SA"), ("DE", "UA"), ("SE", "UA"), ("IT", "UA"), ("JP", "UA")]
# Boundary dates of the policy; a scenario sometimes lands on one, or a day either side.
EDGES = [
    dt.date(2014, 8, 1),
    dt.date(2022, 2, 26),
    dt.date(2022, 2, 27),
    dt.date(2018, 11, 22),
    dt.date(2024, 1, 8),
    dt.date(2014, 4, 1),
    dt.date(2024, 9, 2),
]
START, DAYS = dt.date(2010, 1, 1), (dt.date(2026, 12, 31) - dt.date(2010, 1, 1)).days


def scenario(rng: random.Random) -> dict[str, Any]:
    """One random scenario (all 13 fields of the policy header)."""
    if rng.random() < 0.15:
        exporter, recipient = rng.choice(FOCAL)
    else:
        exporter = rng.choice(EXPORTERS)
        pool = rng.choice((HOT, HOT, ANNEX_2, OTHERS))
        recipient = rng.choice([c for c in pool if c != exporter])
    transfer_type = rng.choice(TRANSFER_TYPES)
    if rng.random() < 0.05:
        date = rng.choice(EDGES) + dt.timedelta(days=rng.choice((-1, 0, 1)))
    else:
        date = START + dt.timedelta(days=rng.randrange(DAYS + 1))
    via: list[str] = []
    if transfer_type == "re_export" or rng.random() < 0.1:
        via = rng.sample([o for o in ORIGINS if o != exporter], rng.choice((1, 1, 2)))
    return {
        "exporter": exporter,
        "recipient": recipient,
        "date": date.isoformat(),
        "category": rng.choice(CATEGORIES),
        "lethal": rng.random() < 0.7,
        "recipient_in_armed_conflict": rng.random() < 0.4,
        "recipient_exercising_self_defence": rng.random() < 0.5,
        "end_user": rng.choice(END_USERS),
        "under_un_embargo": rng.random() < 0.04,
        "recipient_groups": [g for g, members in (("NATO", NATO), ("EU", EU)) if recipient in members],
        "transfer_type": transfer_type,
        "via": via,
        "origin_consent": rng.random() < 0.5,
    }


def generate(n: int, seed: int = 0) -> list[dict[str, Any]]:
    """n scenarios, deterministic for `seed`."""
    rng = random.Random(seed)
    return [scenario(rng) for _ in range(n)]


if __name__ == "__main__":  # print how often each rule fires, and the decision mix
    import collections
    import sys

    import reference

    n = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
    fired: collections.Counter[str] = collections.Counter()
    decisions: collections.Counter[str] = collections.Counter()
    for s in generate(n, 0):
        deny, permit = reference.firing(s)
        fired.update(deny + permit)
        decisions[reference.decide(s)[0]] += 1
    print(dict(decisions))
    print(sorted(fired.items(), key=lambda kv: kv[1]))
