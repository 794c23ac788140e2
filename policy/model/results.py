"""The JSON output contract: what `--format json` prints, as pydantic models.

The engine and the analyses keep their own working structures (a decision holds the rules and
facts it used); these models are what leaves the program. Every JSON report is a ``model_dump``
of one of them, so `policy schema` publishes its JSON Schema beside the input schemas. Optional
keys (present only when they say something) are left unset and dumped with ``exclude_unset``.
"""

from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field


class Out(BaseModel):
    """Base of the output models: no unknown keys, field order is key order."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True, defer_build=True)

    def dump(self) -> dict[str, Any]:
        """JSON-ready data: set keys only, in field order, with aliases (`from`)."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


# ------------------------------------------------------------------ decisions (evaluate, what-if)


class SourceRef(Out):
    title: str
    url: Optional[str]


class FactOut(Out):
    """A fact the rules read: its value (null when unknown), where it came from and why."""

    value: Any
    origin: str = Field(description="given | derived | world | assumed | default | view | unknown")
    basis: str
    sources: list[SourceRef]


class CitationOut(Out):
    instrument: str
    article: Optional[str]
    source: str
    title: Optional[str]
    url: Optional[str]
    seed: Optional[str]
    confidence: Optional[str]
    quote: Optional[str]


class Period(Out):
    from_: Optional[str] = Field(alias="from")
    until: Optional[str]


class RuleOut(Out):
    """A rule as one evaluation used it: what it did (status) and why (conditions, citations)."""

    id: str
    title: str
    effect: str
    binding: str
    status: str = Field(description="fired | conflict | defeated | unknown")
    in_force: Period
    citations: list[CitationOut]
    conditions: list[str]
    rule_effect: str = Field("", description="`as_direct_export` when the effect is the nested direct test's")
    defeated_by: list[str] = Field(default_factory=list)
    nested: Optional[JurisdictionOut] = None
    explanation: str = ""
    uncertain: str = ""


class JurisdictionOut(Out):
    """One jurisdiction's verdict on one item, in one role."""

    jurisdiction: str
    name: str
    role: str
    item: str
    verdict: str
    reason: str
    rules: list[RuleOut]
    defeated: list[RuleOut]
    unknown: list[RuleOut]
    not_applicable: list[str]
    not_in_force: list[str]
    conflicts: list[list[str]]
    missing_facts: list[str]


class TransferOut(Out):
    id: str
    title: str
    kind: str
    date: str
    exporter: str
    recipient: str
    end_user: str
    transfer: str
    via: list[str]
    transit: list[str]
    items: list[dict[str, Any]]


class DecisionOut(Out):
    """The verdict on a transfer, with every jurisdiction's say and the facts used."""

    scenario: TransferOut
    verdict: str
    deciding: list[str]
    jurisdictions: list[JurisdictionOut]
    facts: dict[str, FactOut]
    warnings: list[str]
    record: dict[str, Any] = Field(description="date, policy version, rules digest, rule files, overlays")


# ------------------------------------------------------------------ diff


class FieldChange(Out):
    old: Any
    new: Any


class RuleChangeOut(Out):
    jurisdiction: str
    rule: str
    change: str = Field(description="added | removed | changed")
    title: str
    effect: str
    binding: str
    period: str
    citation: Optional[dict[str, Any]]
    direction: str = Field(description="tightening | loosening | mixed | none")
    fields: dict[str, FieldChange]


class WorldChangeOut(Out):
    dataset: str
    entry: str
    change: str
    detail: str


class ScenarioChangeOut(Out):
    scenario: str
    title: str
    old: str
    new: str
    old_rules: list[str]
    new_rules: list[str]


class ScenarioChangesOut(Out):
    checked: int
    changed: list[ScenarioChangeOut]


class RegionOut(Out):
    """A class of transfers over which one jurisdiction's verdict changes the same way."""

    jurisdiction: str
    role: str
    roles: list[str]
    old: str
    new: str
    olds: list[str]
    news: list[str]
    direction: str
    condition: str
    terms: list[dict[str, Any]]
    count: int
    example: dict[str, Any]
    old_rules: list[str]
    new_rules: list[str]


class ExhaustiveOut(Out):
    space: str
    combinations_checked: int
    jurisdictions: list[str]
    regions: list[RegionOut]


class ClauseOut(Out):
    condition: str
    words: str
    terms: list[dict[str, Any]]
    old: str
    new: str
    olds: list[str]
    news: list[str]
    direction: str
    count: int
    example: dict[str, Any]
    old_rules: list[str]
    new_rules: list[str]


class GroundedRowOut(Out):
    jurisdiction: str
    roles: list[str]
    exporters: list[str]
    recipients: list[str]
    every_recipient: bool
    cause: str
    direction: str
    count: int
    total: int
    clauses: list[ClauseOut]


class GroundedOut(Out):
    dates: list[str]
    evaluations: int
    rows: list[GroundedRowOut]


class DiffOut(Out):
    """A policy diff: rule and world changes, flipped scenarios, the exhaustive and grounded regions."""

    old: str
    new: str
    changed: bool
    summary: str
    rules: list[RuleChangeOut]
    world: list[WorldChangeOut]
    scenarios: ScenarioChangesOut
    exhaustive: ExhaustiveOut
    grounded: Optional[GroundedOut]


OUTPUTS: dict[str, tuple[type[Out], str]] = {
    "decision.schema.json": (DecisionOut, "policy decision (evaluate / what-if --format json)"),
    "diff.schema.json": (DiffOut, "policy diff report (diff --format json)"),
}
"""Output schemas `policy schema` publishes, beside the input ones."""
