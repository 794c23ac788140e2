"""The transfer contract: how every entry point reads a transfer's fields.

`what-if`, `matrix`, `timeline`, scenario files and `batch` (JSON Lines and CSV) all read dates,
countries, items, flags and choices through these functions, so the same input gives the same
value or the same error code everywhere. Each error is a :class:`ContractError` with a stable
code (``bad-date``, ``unknown-country``, ``unknown-item``, ``bad-category``, ``bad-boolean``,
``bad-choice``) and a hint saying what to write instead.

Rule and world files are authored data and keep their stricter forms (ISO codes); only the
fields of a transfer are read leniently (names, any case).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from typing import Any, Iterable, Mapping

from policy.model.countries import lookup_country

END_USERS = ("government", "military", "police", "private", "humanitarian", "non-state")
TRANSFERS = ("sale", "donation", "loan", "re-export")
"""The values a transfer's `end_user` and `transfer` may take (``policy.model.facts`` reads them too)."""

DATE_RE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
CATEGORY_RE = re.compile(r"ML(?:[1-9]|1[0-9]|2[0-2])(?:\.[a-z0-9]+)*")


def shown(value: Any) -> str:
    """A value as an error message shows it: control characters escaped (`ML3\\n`, not a line break).

    >>> shown("ML3\\n"), shown(5)
    ('ML3\\\\n', '5')
    """
    text = value if isinstance(value, str) else str(value)
    return text if text.isprintable() else text.encode("unicode_escape").decode("ascii")


class ContractError(ValueError):
    """A transfer field that cannot be read: ``code`` is stable, ``hint`` says what to do."""

    def __init__(self, code: str, message: str, hint: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.hint = hint


def read_date(value: Any) -> dt.date:
    """A calendar date written ``YYYY-MM-DD`` (or a YAML date); nothing else.

    >>> read_date("2023-01-30")
    datetime.date(2023, 1, 30)
    >>> read_date("2023-W05-1")
    Traceback (most recent call last):
    ...
    policy.model.contract.ContractError: `2023-W05-1` is not a date written YYYY-MM-DD
    """
    if type(value) is dt.date:
        return value
    if isinstance(value, str) and DATE_RE.fullmatch(value):
        try:
            return dt.date.fromisoformat(value)
        except ValueError:
            raise ContractError("bad-date", f"`{shown(value)}` is not a day of the calendar", _DATE_HINT) from None
    text = value.isoformat() if isinstance(value, dt.datetime) else value
    raise ContractError("bad-date", f"`{shown(text)}` is not a date written YYYY-MM-DD", _DATE_HINT)


_DATE_HINT = "write the date as YYYY-MM-DD, e.g. 2023-01-30"


def read_country(value: Any) -> str:
    """An ISO 3166-1 alpha-2 code from a code or a name, in any case, with or without accents.

    >>> read_country("Germany"), read_country("de"), read_country("Korea, South"), read_country("Turkiye")
    ('DE', 'DE', 'KR', 'TR')
    """
    if not isinstance(value, str):
        raise ContractError("unknown-country", f"`{shown(value)}` is not a country", _COUNTRY_HINT)
    code, suggestion = lookup_country(value)
    if code is None:
        hint = f"did you mean `{suggestion[0]}` ({suggestion[1]})?" if suggestion else _COUNTRY_HINT
        raise ContractError("unknown-country", f"unknown country `{shown(value)}`", hint)
    return code


_COUNTRY_HINT = "use an ISO 3166-1 alpha-2 code such as `KR` or a country name such as `Ukraine`"


def read_category(value: Any) -> str:
    """A Munitions List category, in any case (``ml10.A`` is ``ML10.a``).

    >>> read_category("ml3"), read_category("ML10.A")
    ('ML3', 'ML10.a')
    """
    code = _category_or_none(value)
    if code is None:
        raise ContractError(
            "bad-category",
            f"`{shown(value)}` is not a Munitions List category",
            "use ML1 to ML22, optionally with a sub-entry (`ML3`, `ML10.a`)",
        )
    return code


def _category_or_none(value: Any) -> str | None:
    if not isinstance(value, str):
        return None
    head, dot, rest = value.partition(".")
    code = head.upper() + dot + rest.lower()
    return code if CATEGORY_RE.fullmatch(code) else None


def read_item(value: Any, catalogue: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(ML category, None) or (None, catalogue id) for an item given as either, in any case."""
    code = _category_or_none(value)
    if code is not None:
        return code, None
    if isinstance(value, str):
        if value in catalogue:
            return None, value
        folded = value.lower()
        if folded in catalogue:
            return None, folded
    if isinstance(value, str) and value[:2].upper() == "ML" and value[2:3].isdigit():
        read_category(value)  # looks like a category but is none: say so (`ML99`, `ML3\n`)
    match = difflib.get_close_matches(str(value).strip().lower(), sorted(catalogue), n=1)
    raise ContractError(
        "unknown-item",
        f"`{shown(value)}` is neither a Munitions List category nor a catalogue item",
        f"did you mean `{match[0]}`?" if match else "use ML1..ML22 or a catalogue id (see `policy items`)",
    )


def read_flag(value: Any, text: bool = False) -> bool:
    """``true`` or ``false`` only (YAML's ``yes``/``no``/``on`` are not booleans here).

    ``text`` accepts the words ``true``/``false`` in any case, for CSV cells.
    """
    if value is True or value is False:
        return bool(value)
    if text and isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise ContractError("bad-boolean", f"`{shown(value)}` is not true or false", "write true or false")


def read_choice(value: Any, choices: Iterable[str]) -> str:
    """One of a fixed set of words, in any case."""
    options = tuple(choices)
    if isinstance(value, str) and value.lower() in options:
        return value.lower()
    raise ContractError(
        "bad-choice", f"`{shown(value)}` is not one of {', '.join(options)}", f"use one of {', '.join(options)}"
    )


def check_chain(exporter: str, via: Iterable[str], transit: Iterable[str], recipient: str) -> tuple[int, ContractError]:
    """(-1, ...) when the chain of holders is sound; else the position of the repeated state and the error.

    Positions count exporter 0, then the `via` holders, the `transit` states, the recipient last.
    """
    chain = [exporter, *via, *transit, recipient]
    if exporter == recipient:
        return len(chain) - 1, ContractError(
            "same-state",
            f"exporter and recipient are the same state ({exporter})",
            "a transfer goes from one state to another; check --exporter and --recipient",
        )
    seen: set[str] = set()
    for pos, state in enumerate(chain):
        if state in seen:
            return pos, ContractError(
                "cyclic-chain",
                f"the chain of holders visits `{state}` twice: " + " -> ".join(chain),
                "list each holder once: exporter, then `via` holders, then the recipient",
            )
        seen.add(state)
    return -1, ContractError("", "")
