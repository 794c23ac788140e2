"""ISO 3166-1 countries, from pycountry rather than a hand-kept list.

pycountry ships the ISO 3166 database offline, so codes and names stay correct without
network access. Users may type a code or a common name, in any case.
"""

from __future__ import annotations

import difflib
import functools

import pycountry

from .errors import user_error

# Names people use that are not ISO's names or pycountry's common names.
_EXTRA_NAMES = {
    "south korea": "KR",
    "korea": "KR",
    "rok": "KR",
    "north korea": "KP",
    "dprk": "KP",
    "russia": "RU",
    "uk": "GB",
    "britain": "GB",
    "great britain": "GB",
    "england": "GB",
    "usa": "US",
    "america": "US",
    "united states of america": "US",
    "iran": "IR",
    "syria": "SY",
    "turkey": "TR",
    "türkiye": "TR",
    "turkiye": "TR",
    "taiwan": "TW",
    "vietnam": "VN",
    "laos": "LA",
    "czechia": "CZ",
    "czech republic": "CZ",
    "holland": "NL",
    "the netherlands": "NL",
    "venezuela": "VE",
    "bolivia": "BO",
    "moldova": "MD",
    "tanzania": "TZ",
    "palestine": "PS",
    "ivory coast": "CI",
    "drc": "CD",
    "dr congo": "CD",
    "democratic republic of congo": "CD",
    "burma": "MM",
    "uae": "AE",
    "emirates": "AE",
    "saudi": "SA",
    "kosovo": "XK",
    "republic of korea": "KR",
    "korea, republic of": "KR",
    "democratic people's republic of korea": "KP",
    "russian federation": "RU",
    "united kingdom": "GB",
    "swiss confederation": "CH",
}

# Short names for display where ISO's are long or inverted ("Korea, Republic of").
_DISPLAY = {
    "KR": "South Korea",
    "KP": "North Korea",
    "RU": "Russia",
    "IR": "Iran",
    "SY": "Syria",
    "VE": "Venezuela",
    "TW": "Taiwan",
    "BO": "Bolivia",
    "MD": "Moldova",
    "TZ": "Tanzania",
    "GB": "United Kingdom",
    "US": "United States",
    "PS": "Palestine",
    "CD": "DR Congo",
    "LA": "Laos",
    "VN": "Vietnam",
    "TR": "Türkiye",
}


@functools.lru_cache(maxsize=1)
def _table() -> tuple[dict[str, str], dict[str, str]]:
    codes: dict[str, str] = {}
    names: dict[str, str] = {}
    for c in pycountry.countries:
        codes[c.alpha_2] = c.name
        for attr in ("name", "official_name", "common_name"):
            value = getattr(c, attr, None)
            if value:
                names[value.lower()] = c.alpha_2
        names[c.alpha_3.lower()] = c.alpha_2
    codes.setdefault("XK", "Kosovo")  # user-assigned code in common use; not in ISO 3166-1
    names.update(_EXTRA_NAMES)
    return codes, names


def is_country(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code (upper case)."""
    return isinstance(code, str) and code in _table()[0]


def country_name(code: str) -> str:
    """The country's usual short name, or the code itself if unknown."""
    return _DISPLAY.get(code) or _table()[0].get(code, code)


def resolve_country(text: str) -> str:
    """A code or a common name, in any case, to an alpha-2 code; raises with a suggestion."""
    codes, names = _table()
    t = text.strip()
    if t.upper() in codes:
        return t.upper()
    if t.lower() in names:
        return names[t.lower()]
    candidates = difflib.get_close_matches(t.lower(), list(names), n=1, cutoff=0.6)
    hint = (
        f"did you mean `{candidates[0]}` ({names[candidates[0]]})?"
        if candidates
        else ("use an ISO 3166-1 alpha-2 code such as `KR` or a country name such as `Ukraine`")
    )
    raise user_error("unknown-country", f"unknown country `{text}`", help=hint)
