"""Default logic over the rules that apply: exceptions defeat, then conflicts, then severity.

Shared by the explained engine and the compiled screening path, so both decide alike.
"""

from __future__ import annotations

from typing import NamedTuple

from policy.model import RESTRICTIVE, Verdict


class Candidate(NamedTuple):
    """An applicable rule as the resolution sees it."""

    id: str
    default: bool
    exception_to: tuple[str, ...]
    verdict: Verdict
    consent_test: bool  # an as_direct_export rule: its verdict is another evaluation's
    yields_to: tuple[str, ...] = ()


def resolve(
    applicable: list[Candidate], if_none: Verdict
) -> tuple[Verdict, list[str], list[tuple[str, str]], dict[str, list[str]]]:
    """Verdict, determining rule ids, conflicting pairs, and which rules defeated which.

    - a rule listed in an applicable rule's ``exception_to`` is defeated (``yields_to`` is the
      same relation written on the losing rule);
    - a ``default`` rule is defeated by any applicable non-default rule;
    - restrictive verdicts accumulate (most severe holds);
    - a ``permitted`` rule meeting a restrictive one (neither a consent test) is a conflict.
    """
    ids = {c.id for c in applicable}
    defeats: dict[str, list[str]] = {}
    others = [c.id for c in applicable if not c.default]
    for c in applicable:
        for target in c.exception_to:
            if target in ids:
                defeats.setdefault(target, []).append(c.id)
        for winner in c.yields_to:
            if winner in ids:
                defeats.setdefault(c.id, []).append(winner)
        if c.default and others:
            defeats.setdefault(c.id, []).extend(others)
    live = [c for c in applicable if c.id not in defeats]
    defeat_map = {k: sorted(v) for k, v in defeats.items()}
    permits = [c for c in live if c.verdict is Verdict.permitted and not c.consent_test]
    restricts = [c for c in live if c.verdict in RESTRICTIVE and not c.consent_test]
    conflicts = sorted({(min(p.id, r.id), max(p.id, r.id)) for p in permits for r in restricts})
    if conflicts:
        return Verdict.undetermined, [], conflicts, defeat_map
    if not live:
        return if_none, [], [], defeat_map
    verdict = Verdict.most_severe([c.verdict for c in live])
    return verdict, sorted(c.id for c in live if c.verdict == verdict), [], defeat_map
