"""A plain batch line's *meaning*: what of its fields, date and world data its screening can tell apart.

The columnar batch (``batch_columns``) screens one line per meaning and gives every line of that
meaning the result; ``Relevance`` says what the meaning is. Kept apart from the columns (and numpy)
because the rules' side of a batch (``batch_rules``) computes it, in a helper process too.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from policy.eval.batch import BatchScreener, transfer_scenario

TABLE_LIMIT = 50_000
"""Entries a value table keeps before it starts afresh (memory stays flat)."""


class Result(NamedTuple):
    """A screening as plain text: verdict, (code, role, verdict) per jurisdiction, deciding rules."""

    verdict: str
    jurisdictions: tuple[tuple[str, str, str], ...]
    deciding_rules: tuple[str, ...]


class Relevance:
    """What of a plain transfer can change its screening: a coarser cache key than ``BatchScreener.key``.

    *The other fields.* Each rule condition tests a field (recipient, item, end user, transfer)
    only through its leaves, each of which reads one field: two recipients (or items...) for
    which every such leaf of the exporter's and the regimes' rules gives the same truth value are
    the same question to those rules (the *signature*; a view naming the recipient, or a view on
    one of these fields, keeps the value itself). The world data enter only through the derived
    facts the rules read (``FactBuilder``): the exporter's and the recipient's facts are kept as
    values, so intervals and countries with the same facts are one.

    *The date.* For those fields, a rule whose condition is already false cannot apply on any
    day, so the days where it starts, ends or flips a `date` test do not matter; the others (and
    every view's and binding condition's days) cut the calendar into intervals.

    ``tests/test_batch_columns.py`` checks the key on each side of every date that matters, and
    lines over many countries and items, against uncached screening.
    """

    STATIC = ("exporter", "recipient", "end_user", "transfer", "via", "item.id", "item.category", "item.lethal")
    SIGNED = ("recipient", "end_user", "transfer", "item.id", "item.category", "item.lethal")
    """The fields replaced by their signature (the exporter is kept: it names the parties)."""

    def __init__(self, bs: BatchScreener) -> None:
        import datetime as dt

        from policy.eval.compiled import compile_leaf
        from policy.model import iter_leaves

        base = bs.base
        groups = base.world.group_kinds()
        self.builder = bs.screener.builder
        self.regimes = sorted(c for c, jf in base.jurisdictions.items() if jf.kind == "regime")
        self.states = {c for c, jf in base.jurisdictions.items() if jf.kind != "regime"}
        one = dt.timedelta(days=1)

        def flips(cond: Any) -> set[int]:
            days: set[int] = set()
            for leaf, _ in iter_leaves(cond):
                if leaf.fact in ("date", "contract_date") and leaf.op != "exists":
                    for v in leaf.value if isinstance(leaf.value, list) else [leaf.value]:
                        d = v if isinstance(v, dt.date) else dt.date.fromisoformat(str(v))
                        days.update({d.toordinal(), (d + one).toordinal()})
            return days

        self.files: dict[str, tuple[frozenset[int], list[tuple[Any, frozenset[int], bool]]]] = {}
        # per file: the leaves testing each signed field; the countries its views name; whether
        # a view names a signed field (then the file's fields are kept as values)
        self.leaves: dict[str, dict[str, list[Any]]] = {}
        self.viewed: dict[str, frozenset[str]] = {}
        self.whole: set[str] = set()
        for code, jf in base.jurisdictions.items():
            always = flips(jf.binds)
            for v in jf.views:
                always |= {d.toordinal() for d in (v.from_, v.until and v.until + one) if d}
            whole = any(v.fact in self.STATIC for v in jf.views)
            if whole:
                self.whole.add(code)
            rules = []
            per: dict[str, list[Any]] = {}
            for cond in [jf.binds, *(r.when for r in jf.rules)]:
                for leaf, _ in iter_leaves(cond):
                    if leaf.fact in self.SIGNED:
                        per.setdefault(leaf.fact, []).append(compile_leaf(leaf, groups))
            compiled = bs.screener.compiled[code]
            for cr in (cr for role_rules in compiled.by_role.values() for cr in role_rules):
                r = cr.rule
                days = flips(r.when) | {d.toordinal() for d in (r.from_, r.until and r.until + one) if d}
                keep = whole or any(leaf.op == "exists" for leaf, _ in iter_leaves(r.when))
                rules.append((cr.pred, frozenset(days), keep))
            self.files[code] = (frozenset(always), rules)
            self.leaves[code] = per
            self.viewed[code] = frozenset(v.country for v in jf.views)
        self._signs: dict[tuple[str, str, Any], Any] = {}

    def _files(self, exporter: str) -> list[str]:
        return ([exporter] if exporter in self.states else []) + self.regimes

    @staticmethod
    def static_facts(key: tuple[Any, ...]) -> dict[str, Any]:
        """The fields of a plain transfer's ``Transfer.key`` as the rules' facts (``via`` empty)."""
        _, exporter, recipient, end_user, transfer, category, item_id, lethal = key[:8]
        static = {
            "exporter": exporter,
            "recipient": recipient,
            "end_user": end_user,
            "transfer": transfer,
            "via": (),
            "item.category": category,
        }
        if item_id is not None:
            static["item.id"] = item_id
        if lethal is not None:
            static["item.lethal"] = lethal
        return static

    def cuts(self, key: tuple[Any, ...]) -> list[int]:
        """The days (ordinals) where a rule that can apply to this transfer starts, ends or flips."""
        static = self.static_facts(key)
        days: set[int] = set()
        for code in self._files(static["exporter"]):
            always, rules = self.files[code]
            days |= always
            for pred, when, keep in rules:
                if when and (keep or pred(static) is not False):
                    days |= when
        return sorted(days)

    def _sign(self, exporter: str, fact: str, value: Any) -> Any:
        """The truth of every leaf on ``fact`` in the exporter's and the regimes' rules, for ``value``."""
        hit = self._signs.get((exporter, fact, value))
        if hit is None:
            files = self._files(exporter)
            if any(c in self.whole for c in files) or (
                fact == "recipient" and any(value in self.viewed[c] for c in files)
            ):
                hit = ("value", value)
            else:
                one = {fact: value}
                hit = tuple(leaf(one) for c in files for leaf in self.leaves[c].get(fact, ()))
            if len(self._signs) > TABLE_LIMIT:
                self._signs.clear()
            self._signs[exporter, fact, value] = hit
        return hit

    def signature(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        """The exporter, the recipient's signature and the other fields' (``item.lethal`` as screening reads it)."""
        return (key[1], self.recipient_signature(key), self.rest_signature(key))

    def recipient_signature(self, key: tuple[Any, ...]) -> Any:
        return self._sign(key[1], "recipient", key[2])

    def rest_signature(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        _, exporter, _, end_user, transfer, category, item_id, lethal = key[:8]
        if lethal is None:
            lethal = self.builder.lethal_of(category)
        return (
            self._sign(exporter, "end_user", end_user),
            self._sign(exporter, "transfer", transfer),
            self._sign(exporter, "item.id", item_id),
            self._sign(exporter, "item.category", category),
            self._sign(exporter, "item.lethal", lethal),
        )

    def exporter_world(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        """The derived facts the rules read about the exporter, on the transfer's date."""
        sc = transfer_scenario(key)
        return self.builder.exporter_world(sc, sc.items[0])

    def recipient_world(self, key: tuple[Any, ...]) -> tuple[Any, ...]:
        """The derived facts the rules read about the recipient (embargoes on this item and end user
        included), on the transfer's date."""
        sc = transfer_scenario(key)
        return self.builder.recipient_world(sc, sc.items[0])
