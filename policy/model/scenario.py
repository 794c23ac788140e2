"""Transfers (scenarios) with expected verdicts, and overlays (what-if on the law)."""

from typing import Annotated, Any, Literal, get_args

from pydantic import BeforeValidator, Field, WithJsonSchema, field_validator, model_validator

from policy.model.base import KEBAB_RE, Day, Flag, Source, Strict, Verdict
from policy.model.contract import read_category, read_choice, read_country
from policy.model.rules import Rule
from policy.model.world import WorldFile

# ---------------------------------------------------------------- scenarios

EndUser = Literal["government", "military", "police", "private", "humanitarian", "non-state"]
TransferKind = Literal["sale", "donation", "loan", "re-export"]


_END_USER_SCHEMA: dict[str, Any] = {
    "anyOf": [
        {"enum": list(get_args(EndUser))},
        {
            "type": "object",
            "properties": {"kind": {"enum": list(get_args(EndUser))}, "unit": {"type": "string"}},
            "required": ["kind"],
            "additionalProperties": False,
        },
    ],
    "default": "military",
    "description": "who will use the items: a kind, or {kind, unit} (the unit becomes `end_user_unit`)",
}


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
    end_user: Annotated[EndUser, _choice(EndUser), WithJsonSchema(_END_USER_SCHEMA, mode="validation")] = "military"
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
