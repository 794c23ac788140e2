"""ISO 3166-1 countries, from pycountry rather than a hand-kept list.

pycountry ships the ISO 3166 database offline, so codes and names stay correct without
network access. Users may type a code or a common name, in any case.
"""

from __future__ import annotations

import difflib
import functools
import unicodedata

import pycountry

from policy.model.errors import user_error

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
    # historic states (ISO 3166-3), where world data and transfers go back
    "SU": "Soviet Union",
    "YU": "Yugoslavia",
    "CS": "Czechoslovakia",
    "DD": "East Germany",
    "ZR": "Zaire",
}

# Former states whose ISO 3166-1 alpha-2 code no current state uses (pycountry's ISO 3166-3 data).
HISTORIC = ("SU", "YU", "CS", "DD", "ZR")
_HISTORIC = HISTORIC


@functools.lru_cache(maxsize=1)
def country_table() -> tuple[dict[str, str], dict[str, str]]:
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
    for c in pycountry.historic_countries:
        if getattr(c, "alpha_2", None) in _HISTORIC and c.alpha_2 not in codes:
            codes[c.alpha_2] = c.name
            names[c.name.lower()] = c.alpha_2
            names[_DISPLAY[c.alpha_2].lower()] = c.alpha_2
    names.update(_EXTRA_NAMES)
    return codes, names


@functools.lru_cache(maxsize=1)
def _translated() -> dict[str, str]:
    """Country names in every language pycountry ships (its gettext catalogues), folded, to codes:
    read once, on the first name the other tables do not know (`Deutschland`, `Corée du Sud`)."""
    import gettext
    import os

    out: dict[str, str] = {}
    locales = os.listdir(pycountry.LOCALES_DIR) if os.path.isdir(pycountry.LOCALES_DIR) else []
    for lang in sorted(locales):
        try:
            t = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
        except OSError:
            continue
        for c in pycountry.countries:
            for attr in ("name", "common_name", "official_name"):
                value = getattr(c, attr, None)
                if value:
                    out.setdefault(_fold(t.gettext(value)), c.alpha_2)
    return out


DISPLAY_LANGUAGE = {"lang": ""}
"""The language of displayed country names (`policy --lang de`); empty: English."""


def localized(code: str, lang: str) -> str | None:
    """The country's name in ``lang`` from pycountry's translations, or None."""
    import gettext

    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return None
    try:
        t = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[lang])
    except OSError:
        return None
    name = getattr(country, "common_name", None) or country.name
    return t.gettext(name)


def is_country(code: str) -> bool:
    """True for an ISO 3166-1 alpha-2 code (upper case)."""
    return isinstance(code, str) and code in country_table()[0]


def country_name(code: str) -> str:
    """The country's usual short name (in the display language when one is set), or the code itself."""
    lang = DISPLAY_LANGUAGE["lang"]
    if lang and lang != "en":
        name = localized(code, lang)
        if name:
            return name
    return _DISPLAY.get(code) or country_table()[0].get(code, code)


def _fold(text: str) -> str:
    """Lower case without accents or extra spaces: `Côte d'Ivoire` and `cote d'ivoire` meet."""
    decomposed = unicodedata.normalize("NFKD", text.strip().lower())
    return " ".join("".join(ch for ch in decomposed if not unicodedata.combining(ch)).split())


@functools.lru_cache(maxsize=1)
def _folded() -> dict[str, str]:
    return {_fold(name): code for name, code in country_table()[1].items()}


def lookup_country(text: str) -> tuple[str | None, tuple[str, str] | None]:
    """(alpha-2 code, None) for a code or a name in any case and accent; else (None, closest name).

    Inverted names as SIPRI and the UN write them (`Korea, South`) are read both ways.
    """
    codes, _ = country_table()
    t = text.strip()
    if t.upper() in codes and t.isascii() and len(t) == 2:
        return t.upper(), None
    names = _folded()
    key = _fold(t)
    if key in names:
        return names[key], None
    head, sep, tail = key.partition(", ")
    if sep and f"{tail} {head}" in names:
        return names[f"{tail} {head}"], None
    translated = _translated()
    if key in translated:
        return translated[key], None
    close = difflib.get_close_matches(key, list(names), n=1, cutoff=0.6)
    return None, ((close[0], names[close[0]]) if close else None)


def resolve_country(text: str) -> str:
    """A code or a common name, in any case, to an alpha-2 code; raises with a suggestion."""
    code, close = lookup_country(text)
    if code is not None:
        return code
    hint = (
        f"did you mean `{close[0]}` ({close[1]})?"
        if close
        else ("use an ISO 3166-1 alpha-2 code such as `KR` or a country name such as `Ukraine`")
    )
    raise user_error("unknown-country", f"unknown country `{text}`", help=hint)
