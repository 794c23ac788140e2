"""Dates, flags, verdicts, effects, binding levels, roles and sources: the vocabulary every file shares."""

import datetime as dt
import enum
import re
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator

from policy.model.contract import read_date, read_flag
from policy.model.countries import is_country

Day = Annotated[dt.date, BeforeValidator(read_date)]
"""A date written YYYY-MM-DD (a YAML date, or a string in that form): the one date contract."""

Flag = Annotated[bool, BeforeValidator(read_flag)]
"""`true` or `false` only: `yes`, `no`, `on` and 1 are refused, not read as booleans."""


def in_period(start: dt.date | None, end: dt.date | None, day: dt.date) -> bool:
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
    """Base for file models: frozen, and unknown fields are errors.

    Validators are built on a model's first use, not at import: a command served from the
    rulebase cache (load/cache.py) never validates most of these models, and building all of
    them up front cost ~7% of a cold `policy what-if`."""

    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


ID_RE = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*(?:\.[a-z0-9]+(?:-[a-z0-9]+)*)+")
KEBAB_RE = re.compile(r"[a-z0-9]+(?:[-_.][a-z0-9]+)*")


def country_field(value: str) -> str:
    if not isinstance(value, str) or not is_country(value):
        raise ValueError(f"`{value}` is not an ISO 3166-1 alpha-2 country code")
    return value


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
