"""World data: groups and memberships, armed conflicts and their parties, embargoes."""

import datetime as dt
import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from policy.model.base import Day, Flag, Source, Strict, country_field, in_period

# ---------------------------------------------------------------- world data


class Membership(Strict):
    country: str
    from_: Day | None = Field(None, alias="from")
    until: Day | None = None
    source: str | None = None
    note: str | None = None
    uncertain: str | None = None

    _c = field_validator("country")(classmethod(lambda cls, v: country_field(v)))

    @model_validator(mode="after")
    def _period(self) -> "Membership":
        if self.from_ and self.until and self.until < self.from_:
            raise ValueError(f"period ends ({self.until}) before it starts ({self.from_})")
        return self

    def covers(self, day: dt.date) -> bool:
        return in_period(self.from_, self.until, day)


class Group(Strict):
    id: str = Field(description="upper-case id used in facts, e.g. NATO, EU, ATT")
    name: str
    kind: Literal["alliance", "union", "treaty", "regime", "list"]
    sources: list[Source] = Field(default_factory=list)
    note: str | None = None
    members: list[Membership] = Field(default_factory=list)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not re.fullmatch(r"[A-Z][A-Z0-9_]*", v):
            raise ValueError(f"group id `{v}` must be upper case letters, digits and `_`")
        return v


ConflictRole = Literal[
    "belligerent_on_territory", "belligerent_abroad", "intervening_by_invitation", "coalition_member", "supporter"
]
FIGHTING_ROLES = frozenset(
    {"belligerent_on_territory", "belligerent_abroad", "intervening_by_invitation", "coalition_member"}
)


class Party(Strict):
    """A state's part in a conflict, dated when it joined or left on its own."""

    country: str
    role: ConflictRole | None = Field(
        None,
        description="default: belligerent_on_territory where the conflict is fought on the state's territory, "
        "else belligerent_abroad (international) or intervening_by_invitation (internal)",
    )
    from_: Day | None = Field(
        None, alias="from", description="the day this state joined (default: the conflict's start)"
    )
    until: Day | None = Field(None, description="the last day this state took part (default: the conflict's end)")
    self_defence: Flag | None = Field(
        None,
        description="true: a source records the state acting in self-defence (UN Charter Art. 51); false: an "
        "authoritative finding names it the aggressor; unset: not decided (the fact is then unknown)",
    )
    contested: Flag = Field(
        False, description="whether this state is a party at all is contested: facts it alone makes true are unknown"
    )
    note: str | None = None

    _c = field_validator("country")(classmethod(lambda cls, v: country_field(v)))


class Truce(Strict):
    """A truce or ceasefire during which the conflict counts as not active."""

    kind: Literal["truce", "ceasefire"]
    from_: Day = Field(alias="from")
    until: Day | None = Field(None, description="the last day of the truce; null while it holds")
    source: str | None = Field(None, description="id of one of the conflict's sources")
    note: str | None = None
    uncertain: str | None = None


class Conflict(Strict):
    id: str
    name: str
    kind: Literal["international", "internal"]
    from_: Day | None = Field(None, alias="from", description="start; null when long-running with no agreed start")
    until: Day | None = None
    territory: list[str] = Field(
        default_factory=list,
        description="states on whose territory it is fought (default: every party of an international "
        "conflict; the first party of an internal one)",
    )
    parties: list[Party] = Field(min_length=1)
    truces: list[Truce] = Field(default_factory=list)
    sources: list[Source] = Field(min_length=1)
    note: str | None = None
    uncertain: str | None = None

    @field_validator("territory")
    @classmethod
    def _territory(cls, v: list[str]) -> list[str]:
        return [country_field(x) for x in v]

    @model_validator(mode="after")
    def _period(self) -> "Conflict":
        if self.until and self.from_ and self.until < self.from_:
            raise ValueError(f"period ends ({self.until}) before it starts ({self.from_})")
        return self

    def covers(self, day: dt.date) -> bool:
        return in_period(self.from_, self.until, day)

    def active(self, day: dt.date) -> bool:
        """In its period and not in a truce or ceasefire."""
        return self.covers(day) and not any(in_period(t.from_, t.until, day) for t in self.truces)

    def fought_on(self) -> set[str]:
        if self.territory:
            return set(self.territory)
        if self.kind == "international":
            return {p.country for p in self.parties if p.role in (None, "belligerent_on_territory")}
        return {self.parties[0].country}

    def role_of(self, party: Party) -> str:
        if party.role is not None:
            return party.role
        if party.country in self.fought_on():
            return "belligerent_on_territory"
        return "belligerent_abroad" if self.kind == "international" else "intervening_by_invitation"

    def parties_on(self, country: str, day: dt.date) -> list[Party]:
        return [p for p in self.parties if p.country == country and in_period(p.from_, p.until, day)]

    def change_dates(self) -> set[dt.date]:
        """Days on which what this conflict says can change (starts, ends, truces, parties joining or leaving)."""
        days: set[dt.date] = set()
        for start, end in [
            (self.from_, self.until),
            *((t.from_, t.until) for t in self.truces),
            *((p.from_, p.until) for p in self.parties),
        ]:
            if start:
                days.add(start)
            if end:
                days.add(end + dt.timedelta(days=1))
        return days


class Embargo(Strict):
    id: str
    imposed_by: Literal["UN", "EU"]
    target: str
    scope: Literal["full", "non_state_actors", "non_government"]
    full_for: list[str] = Field(
        default_factory=list,
        description=("categories for which the embargo covers every end user whatever the scope (e.g. heavy weapons)"),
    )
    direction: Literal["supply", "procurement", "both"] = Field(
        "supply",
        description="supply: arms may not go to the target; procurement: arms may not be bought from it; both",
    )
    from_: Day = Field(alias="from")
    until: Day | None = None
    exempt_contracts_before: Day | None = Field(
        None, description="grandfather clause: the embargo spares the execution of contracts concluded before this day"
    )
    exemption_until: Day | None = Field(None, description="the last day the grandfather clause applied (default: open)")
    instrument: str
    sources: list[Source] = Field(min_length=1)
    note: str | None = None
    uncertain: str | None = None

    _c = field_validator("target")(classmethod(lambda cls, v: country_field(v)))

    @model_validator(mode="after")
    def _period(self) -> "Embargo":
        if self.until and self.until < self.from_:
            raise ValueError(f"period ends ({self.until}) before it starts ({self.from_})")
        return self

    def covers(self, day: dt.date) -> bool:
        return in_period(self.from_, self.until, day)


class WorldFile(Strict):
    """``rules/world/*.yaml``: dated, sourced facts about the world."""

    schema_: str | None = Field(None, alias="$schema")
    format: Literal["policy-world/v1"]
    groups: list[Group] = Field(default_factory=list)
    conflicts: list[Conflict] = Field(default_factory=list)
    embargoes: list[Embargo] = Field(default_factory=list)
