"""ISO 3166-1 countries, from pycountry rather than a hand-kept list.

pycountry ships the ISO 3166 database offline, so codes and names stay correct without
network access. Users may type a code or a common name, in any case.

pycountry is imported on first use: importing it costs a cold command ~20 ms. The rulebase cache
(load/cache.py) stores the table built from it (``country_table``) beside the rules and hands it
back with ``use_table``, keyed by ``data_stamp`` (where pycountry's code and data lie and when they
were written), so that a command answered from the cache needs no pycountry at all.
"""

from __future__ import annotations

import difflib
import functools
import os
import unicodedata

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


CountryTable = tuple[dict[str, str], dict[str, str]]
_TABLE: list[CountryTable] = []


def country_table() -> CountryTable:
    """(code -> ISO name, lower-case name or alpha-3 -> code), built from pycountry once per process."""
    if not _TABLE:
        _TABLE.append(build_table())
    return _TABLE[0]


def use_table(table: CountryTable) -> None:
    """Take a table that ``build_table`` made from the same pycountry data (``data_stamp``) in
    another process, instead of building it (the rulebase cache stores one)."""
    if not _TABLE:
        _TABLE.append(table)


_STAMPED = (
    "__init__.py",
    "db.py",
    os.path.join("databases", "iso3166-1.json"),
    os.path.join("databases", "iso3166-3.json"),
)


def data_stamp() -> str | None:
    """Where pycountry's code and ISO 3166 data lie, with their sizes and modification times, found
    without importing it; None when it cannot be told (then no table built earlier is used).

    A table is a function of these files: another pycountry release is another stamp."""
    from importlib.machinery import PathFinder

    try:
        spec = PathFinder.find_spec("pycountry")
        if spec is None or not spec.origin or not spec.origin.endswith("__init__.py"):
            return None
        folder = os.path.dirname(spec.origin)
        parts = [folder]
        for name in _STAMPED:
            st = os.stat(os.path.join(folder, name))
            parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    except (OSError, ImportError, ValueError):
        return None
    return "\0".join(parts)


def build_table() -> CountryTable:
    """The country table, from pycountry's current and historic (ISO 3166-3) countries."""
    import pycountry

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

    import pycountry

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

    import pycountry

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
