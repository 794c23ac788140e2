"""Hand-written reference for policy.yaml: the per-decision floor in Python.

Written by reading policy.yaml, not generated from it. Deny overrides permit;
no firing rule means licence_required with deciding = [DEFAULT].
"""

from __future__ import annotations

from typing import Any

Scenario = dict[str, Any]
Decision = tuple[str, list[str]]

EU4 = frozenset({"DE", "FR", "IT", "SE"})
ITAR_126_1 = frozenset({"BY", "CN", "CU", "IR", "KP", "MM", "RU", "SY", "VE"})
CH_ANNEX_2 = frozenset(
    {"AT", "AU", "BE", "CA", "DE", "DK", "ES", "FI", "FR", "GB", "IT", "JP", "NL", "NO", "NZ", "PL", "SE", "US"}
)
DEMINING = frozenset({"ML4", "ML13", "ML17"})
NON_STATE = frozenset({"private_company", "humanitarian_org"})


def firing(s: Scenario) -> tuple[list[str], list[str]]:
    """All firing (deny ids, permit ids), in file order."""
    ex, rc, d = s["exporter"], s["recipient"], s["date"]
    lethal = s["lethal"] is True
    war = s["recipient_in_armed_conflict"] is True
    sd = s["recipient_exercising_self_defence"]
    groups, via = s["recipient_groups"], s["via"]
    unconsented_reexport = s["transfer_type"] == "re_export" and s["origin_consent"] is False
    deny: list[str] = []
    permit: list[str] = []
    if s["under_un_embargo"] is True:
        deny.append("UN-1")
    if s["category"] == "ML7" and lethal:
        deny.append("CWC-1")
    if s["lethal"] is False:
        permit.append("GEN-1")
    if s["end_user"] == "humanitarian_org" and s["category"] in DEMINING:
        permit.append("GEN-2")
    if ex in EU4:
        if rc == "RU" and d >= "2014-08-01":
            deny.append("EU-1")
        if rc == "CN" and lethal:
            deny.append("EU-2")
        if rc == "MM":
            deny.append("EU-3")
    if unconsented_reexport:
        if "US" in via:
            deny.append("US-2")
        if "DE" in via:
            deny.append("DE-7")
        if "CH" in via:
            deny.append("CH-2")
    if ex == "US":
        if rc in ITAR_126_1:
            deny.append("US-1")
        if "NATO" in groups:
            permit.append("US-3")
    elif ex == "KR":
        if lethal and war:
            deny.append("KR-1")
        if "NATO" in groups:
            permit.append("KR-2")
    elif ex == "DE":
        if lethal and war:
            if d < "2022-02-26":
                deny.append("DE-1")
            elif sd is False:
                deny.append("DE-2")
            elif sd is True:
                permit.append("DE-3")
        if "NATO" in groups:
            permit.append("DE-4")
        if "EU" in groups:
            permit.append("DE-5")
        if rc == "SA" and lethal and "2018-11-22" <= d < "2024-01-08":
            deny.append("DE-6")
    elif ex == "CH":
        if war:
            deny.append("CH-1")
        if rc in CH_ANNEX_2:
            permit.append("CH-3")
    elif ex == "SE":
        if lethal and war and d < "2022-02-27":
            deny.append("SE-1")
        if war and sd is False:
            deny.append("SE-2")
        if "EU" in groups:
            permit.append("SE-3")
    elif ex == "JP":
        if lethal and d < "2014-04-01":
            deny.append("JP-1")
        if lethal and war:
            deny.append("JP-2")
    elif ex == "GB":
        if rc == "IL" and lethal and war and d >= "2024-09-02":
            deny.append("GB-1")
        if "NATO" in groups:
            permit.append("GB-2")
    elif ex == "IT":
        if war and sd is False:
            deny.append("IT-1")
    elif ex == "FR":
        if s["end_user"] not in NON_STATE and s["recipient_in_armed_conflict"] is False:
            permit.append("FR-1")
    return deny, permit


def decide(s: Scenario) -> Decision:
    """(decision, sorted deciding rule ids) for one scenario."""
    deny, permit = firing(s)
    if deny:
        return "deny", sorted(deny)
    if permit:
        return "permit", sorted(permit)
    return "licence_required", ["DEFAULT"]


def load() -> None:
    """Nothing to load: the policy is the code above."""
