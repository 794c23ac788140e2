"""Publishers of sources (rules/sources.yaml) and their tiers."""

import enum
import re
from typing import Literal

from pydantic import Field, field_validator

from policy.model.base import Strict

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
