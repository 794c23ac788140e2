"""Rule files: one jurisdiction's rules, each citing its instrument, and its views of facts."""

import datetime as dt
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from policy.model.base import (
    ID_RE,
    Binding,
    Citation,
    Day,
    Effect,
    Flag,
    Role,
    Source,
    Strict,
    country_field,
    in_period,
)
from policy.model.conditions import Condition, iter_leaves
from policy.model.countries import is_country

# ---------------------------------------------------------------- rules


class Rule(Strict):
    """One rule of a jurisdiction: when it applies, what it says, and where that is written."""

    id: str = Field(description="<jurisdiction>.<topic>.<name>, kebab-case segments, unique")
    title: str
    effect: Effect
    binding: Binding
    role: Role = Role.exporter
    default: Flag = Field(False, description="general rule: any other applicable rule of the file defeats it")
    from_: Day | None = Field(None, alias="from", description="first day in force (inclusive)")
    until: Day | None = Field(None, description="last day in force (inclusive)")
    when: Condition | None = None
    exception_to: list[str] = Field(default_factory=list, description="rules this rule defeats when it applies")
    yields_to: list[str] = Field(default_factory=list, description="rules that defeat this rule when they apply")
    citations: list[Citation] = Field(min_length=1)
    explanation: str | None = None
    uncertain: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not ID_RE.fullmatch(v):
            raise ValueError(f"rule id `{v}` must look like `kr.topic.name` (lower-case kebab-case segments)")
        return v

    @model_validator(mode="after")
    def _checks(self) -> "Rule":
        if self.from_ and self.until and self.until < self.from_:
            raise ValueError(f"period ends ({self.until}) before it starts ({self.from_})")
        if self.effect is Effect.prohibited and not self.binding.is_law:
            raise ValueError(
                f"effect `prohibited` needs a binding that is law; `{self.binding.value}` can at most be `restricted`"
            )
        return self

    def in_force(self, day: dt.date) -> bool:
        return in_period(self.from_, self.until, day)


class View(Strict):
    """A government's own position on a fact the world data leaves open, used by its own rules only.

    E.g. Germany's view that Israel acts in self-defence from 7 Oct 2023: Germany's rules read
    `recipient.self_defence` as true for Israel; every other jurisdiction keeps the neutral value.
    """

    id: str = Field(description="<jurisdiction>.view.<name>, unique")
    fact: str = Field(description="a derived fact about the recipient, e.g. recipient.self_defence")
    country: str = Field(description="the state the view is about (the recipient)")
    value: Flag
    from_: Day | None = Field(None, alias="from")
    until: Day | None = None
    citations: list[Citation] = Field(min_length=1)
    note: str | None = None
    uncertain: str | None = None

    _c = field_validator("country")(classmethod(lambda cls, v: country_field(v)))

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not ID_RE.fullmatch(v):
            raise ValueError(f"view id `{v}` must look like `de.view.israel-self-defence`")
        return v

    def applies(self, country: str, day: dt.date) -> bool:
        return self.country == country and in_period(self.from_, self.until, day)


class RuleFile(Strict):
    """``rules/<code>.yaml``: one jurisdiction's or regime's rules and their sources."""

    schema_: str | None = Field(None, alias="$schema")
    format: Literal["policy-rules/v1"]
    jurisdiction: str = Field(description="ISO alpha-2 code for a state; an upper-case id for a regime")
    name: str
    kind: Literal["state", "regime"] = "state"
    binds: Condition | None = Field(None, description="regimes: which exporters the regime binds")
    if_no_rule_applies: Literal["undetermined", "permitted"] = "undetermined"
    summary: str | None = None
    not_encoded: str | None = None
    sources: list[Source] = Field(min_length=1)
    views: list[View] = Field(default_factory=list, description="the government's own positions on contested facts")
    rules: list[Rule] = Field(default_factory=list)

    @model_validator(mode="after")
    def _checks(self) -> "RuleFile":
        if self.kind == "state" and not is_country(self.jurisdiction):
            raise ValueError(f"jurisdiction `{self.jurisdiction}` is not an ISO 3166-1 alpha-2 country code")
        if self.kind == "regime" and not re.fullmatch(r"[A-Z][A-Z0-9-]+", self.jurisdiction):
            raise ValueError("a regime's jurisdiction id is upper case, e.g. `ATT`, `EU-CP`")
        return self

    def change_dates(self) -> set[dt.date]:
        """The days on which one of this file's answers can change: a rule starts, the day after
        one ends, and each side of a date a condition tests (``date lt X`` flips on X, ``lte`` on X+1).
        """
        days: set[dt.date] = set()
        dated: list[Rule | View] = [*self.rules, *self.views]
        for r in dated:
            if r.from_:
                days.add(r.from_)
            if r.until:
                days.add(r.until + dt.timedelta(days=1))
        for cond in [self.binds, *(r.when for r in self.rules)]:
            for leaf, _ in iter_leaves(cond):
                if leaf.fact in ("date", "contract_date") and leaf.op != "exists":
                    for v in leaf.value if isinstance(leaf.value, list) else [leaf.value]:
                        d = v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))
                        days.update({d, d + dt.timedelta(days=1)})
        return days
