"""The data model: rule files, world data, items and scenarios, as pydantic v2 models.

Models validate shape and types only. Cross-references (rule ids, facts, groups, items) are
checked by the loader, which knows every file at once. No I/O and no evaluation here.
"""

from __future__ import annotations

import datetime as dt
import enum
import re
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, BeforeValidator, ConfigDict, Discriminator, Field, Tag, field_validator, model_validator
from typing_extensions import TypeAliasType

from .contract import CATEGORY_RE, read_category, read_choice, read_country, read_date, read_flag
from .countries import is_country

Day = Annotated[dt.date, BeforeValidator(read_date)]
"""A date written YYYY-MM-DD (a YAML date, or a string in that form): the one date contract."""

Flag = Annotated[bool, BeforeValidator(read_flag)]
"""`true` or `false` only: `yes`, `no`, `on` and 1 are refused, not read as booleans."""


def _in_period(start: dt.date | None, end: dt.date | None, day: dt.date) -> bool:
    """Whether ``day`` lies in the inclusive period [start, end] (an open end is unbounded)."""
    return (start is None or start <= day) and (end is None or day <= end)


class Verdict(str, enum.Enum):
    """A verdict word. Ordered by severity: ``prohibited`` is the most severe."""

    prohibited = "prohibited"
    restricted = "restricted"
    undetermined = "undetermined"
    licence_required = "licence_required"
    permitted = "permitted"

    @property
    def severity(self) -> int:
        """Higher is more severe."""
        return _SEVERITY[self]

    @staticmethod
    def most_severe(verdicts: "list[Verdict]") -> "Verdict":
        """The most severe of several verdicts (``undetermined`` for none)."""
        return max(verdicts, key=lambda v: v.severity) if verdicts else Verdict.undetermined


_SEVERITY = {
    Verdict.prohibited: 4,
    Verdict.restricted: 3,
    Verdict.undetermined: 2,
    Verdict.licence_required: 1,
    Verdict.permitted: 0,
}

RESTRICTIVE = frozenset({Verdict.prohibited, Verdict.restricted, Verdict.licence_required})


class Effect(str, enum.Enum):
    """What a rule says about a transfer it applies to."""

    prohibited = "prohibited"
    restricted = "restricted"
    licence_required = "licence_required"
    permitted = "permitted"
    as_direct_export = "as_direct_export"
    """Consent only where this state would allow the direct transfer itself."""


class Binding(str, enum.Enum):
    """How binding a rule's source is: law, or policy that a government may change at will."""

    statute = "statute"
    regulation = "regulation"
    treaty = "treaty"
    un_security_council = "un_security_council"
    eu_legal_act = "eu_legal_act"
    court_ruling = "court_ruling"
    government_decision = "government_decision"
    political_guideline = "political_guideline"
    stated_policy = "stated_policy"

    @property
    def is_law(self) -> bool:
        """True for sources that bind as law (may ground a ``prohibited`` verdict)."""
        return self in _LAW


_LAW = {
    Binding.statute,
    Binding.regulation,
    Binding.treaty,
    Binding.un_security_council,
    Binding.eu_legal_act,
    Binding.court_ruling,
}

BINDING_WORDS = {
    Binding.statute: "statute (law)",
    Binding.regulation: "regulation (law)",
    Binding.treaty: "treaty obligation (law)",
    Binding.un_security_council: "UN Security Council decision (binding law)",
    Binding.eu_legal_act: "EU legal act (law)",
    Binding.court_ruling: "court ruling",
    Binding.government_decision: "government decision (not a statute)",
    Binding.political_guideline: "political guideline (not a statute)",
    Binding.stated_policy: "stated policy (not a statute)",
}


class Role(str, enum.Enum):
    """Why a jurisdiction has a say in a transfer."""

    exporter = "exporter"
    original_producer = "original-producer"
    licence_origin = "licence-origin"
    component_origin = "component-origin"
    transit = "transit"
    earlier_exporter = "earlier-exporter"
    re_exporter = "re-exporter"
    regime = "regime"


class Confidence(str, enum.Enum):
    primary = "primary"
    secondary = "secondary"
    reported = "reported"
    uncertain = "uncertain"


class Strict(BaseModel):
    """Base for file models: frozen, and unknown fields are errors."""

    model_config = ConfigDict(extra="forbid", frozen=True)


ID_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)+")
KEBAB_RE = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")


def _country(value: str) -> str:
    if not isinstance(value, str) or not is_country(value):
        raise ValueError(f"`{value}` is not an ISO 3166-1 alpha-2 country code")
    return value


Country = Annotated[str, Field(description="ISO 3166-1 alpha-2 country code, e.g. KR, UA, NO")]


class Source(Strict):
    """A document that rules cite: a statute, a decision, a report."""

    id: str = Field(description="kebab-case id, unique within the file")
    title: str
    url: str | None = None
    publisher: str | None = None
    date: Day | None = None
    confidence: Confidence = Confidence.primary
    seed: str | None = Field(None, description="path of a copy under seeds/")
    note: str | None = None

    @field_validator("id")
    @classmethod
    def _kebab(cls, v: str) -> str:
        if not KEBAB_RE.fullmatch(v):
            raise ValueError(f"source id `{v}` must be kebab-case (e.g. `dapa-act`)")
        return v


class Citation(Strict):
    """A rule's pointer into its legal source: instrument and article or decision."""

    source: str = Field(description="id of an entry in the file's `sources`")
    instrument: str
    article: str | None = Field(None, description="article, paragraph or the decision's name/date")
    quote: str | None = None
    url: str | None = Field(None, description="a deeper link than the source's own URL")


# ---------------------------------------------------------------- conditions

Op = Literal["eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "within", "exists"]
OPS: tuple[str, ...] = ("eq", "ne", "in", "not_in", "lt", "lte", "gt", "gte", "within", "exists")
_OPS_SET = frozenset(OPS)


class Leaf(Strict):
    """``{fact: NAME, <op>: VALUE}``: one comparison of a fact with a value."""

    fact: str
    eq: Any = None
    ne: Any = None
    in_: list[Any] | None = Field(None, alias="in")
    not_in: list[Any] | None = None
    lt: Any = None
    lte: Any = None
    gt: Any = None
    gte: Any = None
    within: list[str] | str | None = None
    exists: Flag | None = None

    @model_validator(mode="before")
    @classmethod
    def _one_op(cls, data: Any) -> Any:
        if isinstance(data, dict) and len(data) != 2:
            ops = [k for k in data if k in _OPS_SET]
            if len(ops) != 1 and len(ops) == len(data) - ("fact" in data):
                raise ValueError(f"a condition needs exactly one operator ({', '.join(OPS)}); found {len(ops)}")
        return data

    @property
    def op(self) -> str:
        # validation leaves exactly one field besides `fact` set: that is the operator
        for name in self.model_fields_set:
            if name != "fact":
                return "in" if name == "in_" else name
        raise AssertionError("validated leaf has an operator")  # pragma: no cover

    @property
    def value(self) -> Any:
        return getattr(self, "in_" if self.op == "in" else self.op)


class All(Strict):
    all: list["Condition"]


class Any_(Strict):
    any: list["Condition"]


class Not(Strict):
    not_: "Condition" = Field(alias="not")


def _condition_tag(v: Any) -> str | None:
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        for key in ("all", "any", "not", "fact"):
            if key in v:
                return key
        return "fact"
    if isinstance(v, BaseModel):
        return {All: "all", Any_: "any", Not: "not", Leaf: "fact"}.get(type(v))
    return None


Condition = TypeAliasType(
    "Condition",
    Annotated[
        Union[
            Annotated[All, Tag("all")],
            Annotated[Any_, Tag("any")],
            Annotated[Not, Tag("not")],
            Annotated[Leaf, Tag("fact")],
            Annotated[list["Condition"], Tag("list")],
        ],
        Discriminator(
            _condition_tag,
            custom_error_type="condition",
            custom_error_message=(
                "expected a condition: {fact: ..., <op>: ...}, {all: [...]}, {any: [...]}, {not: ...} or a list"
            ),
        ),
    ],
)

All.model_rebuild()
Any_.model_rebuild()
Not.model_rebuild()


def iter_leaves(cond: Any, path: tuple[Any, ...] = ()) -> "list[tuple[Leaf, tuple[Any, ...]]]":
    """Every leaf in a condition, with its path from the condition's root (for locations)."""
    out: list[tuple[Leaf, tuple[Any, ...]]] = []
    if cond is None:
        return out
    if isinstance(cond, Leaf):
        out.append((cond, path))
    elif isinstance(cond, list):
        for i, c in enumerate(cond):
            out.extend(iter_leaves(c, path + (i,)))
    elif isinstance(cond, All):
        for i, c in enumerate(cond.all):
            out.extend(iter_leaves(c, path + ("all", i)))
    elif isinstance(cond, Any_):
        for i, c in enumerate(cond.any):
            out.extend(iter_leaves(c, path + ("any", i)))
    elif isinstance(cond, Not):
        out.extend(iter_leaves(cond.not_, path + ("not",)))
    return out


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
        return _in_period(self.from_, self.until, day)


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

    _c = field_validator("country")(classmethod(lambda cls, v: _country(v)))

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not ID_RE.fullmatch(v):
            raise ValueError(f"view id `{v}` must look like `de.view.israel-self-defence`")
        return v

    def applies(self, country: str, day: dt.date) -> bool:
        return self.country == country and _in_period(self.from_, self.until, day)


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
        for r in [*self.rules, *self.views]:
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


# ---------------------------------------------------------------- world data


class Membership(Strict):
    country: str
    from_: Day | None = Field(None, alias="from")
    until: Day | None = None
    source: str | None = None
    note: str | None = None
    uncertain: str | None = None

    _c = field_validator("country")(classmethod(lambda cls, v: _country(v)))

    @model_validator(mode="after")
    def _period(self) -> "Membership":
        if self.from_ and self.until and self.until < self.from_:
            raise ValueError(f"period ends ({self.until}) before it starts ({self.from_})")
        return self

    def covers(self, day: dt.date) -> bool:
        return _in_period(self.from_, self.until, day)


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

    _c = field_validator("country")(classmethod(lambda cls, v: _country(v)))


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
        return [_country(x) for x in v]

    @model_validator(mode="after")
    def _period(self) -> "Conflict":
        if self.until and self.from_ and self.until < self.from_:
            raise ValueError(f"period ends ({self.until}) before it starts ({self.from_})")
        return self

    def covers(self, day: dt.date) -> bool:
        return _in_period(self.from_, self.until, day)

    def active(self, day: dt.date) -> bool:
        """In its period and not in a truce or ceasefire."""
        return self.covers(day) and not any(_in_period(t.from_, t.until, day) for t in self.truces)

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
        return [p for p in self.parties if p.country == country and _in_period(p.from_, p.until, day)]

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

    _c = field_validator("target")(classmethod(lambda cls, v: _country(v)))

    @model_validator(mode="after")
    def _period(self) -> "Embargo":
        if self.until and self.until < self.from_:
            raise ValueError(f"period ends ({self.until}) before it starts ({self.from_})")
        return self

    def covers(self, day: dt.date) -> bool:
        return _in_period(self.from_, self.until, day)


class WorldFile(Strict):
    """``rules/world/*.yaml``: dated, sourced facts about the world."""

    schema_: str | None = Field(None, alias="$schema")
    format: Literal["policy-world/v1"]
    groups: list[Group] = Field(default_factory=list)
    conflicts: list[Conflict] = Field(default_factory=list)
    embargoes: list[Embargo] = Field(default_factory=list)


# ---------------------------------------------------------------- items


def category_within(category: str, parent: str) -> bool:
    """True if ``category`` is ``parent`` or one of its sub-entries (``ML10.a.1`` within ``ML10``).

    >>> category_within("ML10.a.1", "ML10"), category_within("ML1", "ML10"), category_within("ML3", "ML")
    (True, False, True)
    """
    if parent == "ML":
        return category.startswith("ML")
    return category == parent or category.startswith(parent + ".")


def _category(v: str) -> str:
    if not isinstance(v, str) or not CATEGORY_RE.fullmatch(v):
        raise ValueError(f"`{v}` is not a Munitions List category (ML1 to ML22, e.g. `ML3` or `ML10.a`)")
    return v


class CatalogueItem(Strict):
    id: str
    name: str
    category: str
    lethal: Flag
    unroca: str | None = None
    note: str | None = None
    sources: list[Source] = Field(default_factory=list)

    _cat = field_validator("category")(classmethod(lambda cls, v: _category(v)))


class CategoryEntry(Strict):
    """A Munitions List category, with the lethality assumed when a transfer names only it."""

    id: str
    title: str
    lethal: Flag = Field(description="assumed lethality of an item known only by this category")

    _cat = field_validator("id")(classmethod(lambda cls, v: _category(v)))


class ItemCatalogue(Strict):
    """``rules/items.yaml``: the items people ask about, with category and lethality."""

    schema_: str | None = Field(None, alias="$schema")
    format: Literal["policy-items/v1"]
    sources: list[Source] = Field(default_factory=list)
    categories: list[CategoryEntry] = Field(default_factory=list)
    items: list[CatalogueItem] = Field(default_factory=list)


# ---------------------------------------------------------------- scenarios

EndUser = Literal["government", "military", "police", "private", "humanitarian", "non-state"]
TransferKind = Literal["sale", "donation", "loan", "re-export"]


def _choice(options: Any) -> BeforeValidator:
    return BeforeValidator(lambda v: read_choice(v, options.__args__))


TransferCountry = Annotated[str, BeforeValidator(read_country)]
"""A state in a transfer: a code or a name, in any case (the transfer contract)."""

TransferCategory = Annotated[str, BeforeValidator(read_category)]


class Component(Strict):
    name: str
    origin: TransferCountry
    category: TransferCategory | None = None
    lethal: Flag | None = None


class ScenarioItem(Strict):
    """An item in a scenario: a catalogue id, or a name with category and lethality."""

    id: str | None = None
    name: str | None = None
    category: TransferCategory | None = None
    lethal: Flag | None = None
    origin: TransferCountry | None = None
    licence_origin: TransferCountry | None = Field(None, alias="licence")
    components: list[Component] = Field(default_factory=list)
    quantity: int | None = None

    @model_validator(mode="after")
    def _named(self) -> "ScenarioItem":
        if self.id is None and self.category is None:
            raise ValueError("an item needs a catalogue `id` or a `category`")
        return self


class ScenarioSource(Strict):
    title: str
    url: str | None = None
    date: Day | None = None
    note: str | None = None


class EarlierExport(Strict):
    """An earlier export of the item, whose exporting state may have bound its re-export (end-use undertaking)."""

    from_: TransferCountry = Field(alias="from")
    to: TransferCountry
    date: Day | None = None
    undertaking: str | None = Field(None, description="what the recipient undertook, e.g. re-export needs consent")


class ExistingLicence(Strict):
    """A licence granted before the transfer, and what later became of it."""

    granted: Day
    suspended: Day | None = Field(None, description="the day it was suspended, if it was")
    revoked: Day | None = Field(None, description="the day it was revoked, if it was")


class Calibration(Strict):
    """Which side of a restrictive rule a documented case stands on.

    `explains`: a refusal or halt the rule accounts for; `went_ahead`: a nearby transfer that
    happened, which the rule must not forbid (the check that catches a rule broader than its policy).
    """

    rule: str = Field(description="id of a prohibited/restricted rule")
    side: Literal["explains", "went_ahead"]


class Scenario(Strict):
    """A what-if transfer, optionally with the verdict a test expects."""

    schema_: str | None = Field(None, alias="$schema")
    id: str
    title: str
    kind: Literal["documented", "hypothetical"] = "hypothetical"
    date: Day
    exporter: TransferCountry
    recipient: TransferCountry
    end_user: Annotated[EndUser, _choice(EndUser)] = "military"
    transfer: Annotated[TransferKind, _choice(TransferKind)] = "sale"
    via: list[TransferCountry] = Field(
        default_factory=list, description="intermediate holders (each passes the item on)"
    )
    transit: list[TransferCountry] = Field(
        default_factory=list, description="states the goods cross without changing hands"
    )
    items: list[ScenarioItem] = Field(min_length=1)
    contract_date: Day | None = Field(
        None, description="the day the contract was concluded (default: the transfer date)"
    )
    existing_licence: ExistingLicence | None = Field(None, description="a licence already granted for this transfer")
    history: list[EarlierExport] = Field(
        default_factory=list, description="earlier exports of the item, oldest first (their states may have a say)"
    )
    end_user_unit: str | None = Field(None, description="the unit or agency of the end user, e.g. Coast Guard")
    assume: dict[str, Any] = Field(default_factory=dict)
    expect: Verdict | None = None
    expect_rules: list[str] = Field(default_factory=list)
    expect_deciding: list[str] = Field(default_factory=list, description="jurisdictions expected to decide")
    sources: list[ScenarioSource] = Field(default_factory=list)
    calibrates: list[Calibration] = Field(
        default_factory=list, description="restrictive rules this documented case calibrates, and on which side"
    )
    note: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not KEBAB_RE.fullmatch(v):
            raise ValueError(f"scenario id `{v}` must be kebab-case")
        return v

    @model_validator(mode="before")
    @classmethod
    def _end_user_unit(cls, data: Any) -> Any:
        """`end_user: {kind: military, unit: Coast Guard}` is the kind plus `end_user_unit`."""
        eu = data.get("end_user") if isinstance(data, dict) else None
        if isinstance(eu, dict) and set(eu) <= {"kind", "unit"}:
            data = {**data, "end_user": eu.get("kind", "military")}
            if eu.get("unit") is not None:
                data["end_user_unit"] = eu["unit"]
        return data


# ---------------------------------------------------------------- overlays (what-if on the law)


class JurisdictionChange(Strict):
    """Changes to one jurisdiction's rules: rules added, replaced (same id) or disabled."""

    add: list[Rule] = Field(default_factory=list)
    replace: list[Rule] = Field(default_factory=list)
    disable: list[str] = Field(default_factory=list)


class Overlay(Strict):
    """A hypothetical change to the law or the facts, as data (OpenFisca's 'reform')."""

    schema_: str | None = Field(None, alias="$schema")
    format: Literal["policy-overlay/v1"]
    id: str
    title: str
    description: str | None = None
    sources: list[Source] = Field(default_factory=list, description="sources the added rules cite")
    changes: dict[str, JurisdictionChange] = Field(default_factory=dict)
    assume: dict[str, Any] = Field(default_factory=dict, description="facts assumed in every evaluation")
    world: WorldFile | None = Field(None, description="world data added (memberships, conflicts, embargoes)")

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not KEBAB_RE.fullmatch(v):
            raise ValueError(f"overlay id `{v}` must be kebab-case")
        return v


# ---------------------------------------------------------------- publishers (rules/sources.yaml)

HOST_RE = re.compile(r"^[a-z0-9-]+(?:\.[a-z0-9-]+)*(?:\.\*)?$")


class Tier(str, enum.Enum):
    """How far a lawyer can rely on a publisher: the text itself, a reputable report of it, or neither."""

    official = "official"
    reputable = "reputable"
    other = "other"


def _host(v: str) -> str:
    if not isinstance(v, str) or not HOST_RE.match(v):
        raise ValueError(
            f"`{v}` is not a host: lower-case, no scheme or path "
            "(e.g. `eur-lex.europa.eu`; `blogspot.*` for any ending)"
        )
    return v


class Publisher(Strict):
    """A publisher known by its host; the host also covers its sub-domains (`un.org` covers `press.un.org`)."""

    host: str = Field(description="host without `www.`; covers sub-domains; `name.*` matches any ending")
    tier: Tier
    name: str | None = None
    names: list[str] = Field(
        default_factory=list,
        description="publisher names a source without a URL may give in `publisher:` (e.g. a seed copy of an AFP wire)",
    )
    reason: str = Field(description="what the host is, and so why it has this tier")

    _h = field_validator("host")(classmethod(lambda cls, v: _host(v)))


class ContentFarm(Strict):
    """A host that copies, scrapes or rewrites others' content: never a source."""

    host: str = Field(description="host without `www.`; covers sub-domains; `name.*` matches any ending")
    reason: str

    _h = field_validator("host")(classmethod(lambda cls, v: _host(v)))


class SourceTiers(Strict):
    """``rules/sources.yaml``: publishers by host, in tiers, and known content farms. An unlisted host is `other`."""

    schema_: str | None = Field(None, alias="$schema")
    format: Literal["policy-sources/v1"]
    publishers: list[Publisher] = Field(default_factory=list)
    content_farms: list[ContentFarm] = Field(default_factory=list)
