"""Warnings about rules that are valid YAML but likely wrong.

For each jurisdiction, every combination of the facts its rules test is enumerated (as in the
exhaustive diff), so the findings are exact for the encoded conditions:
- ``conflict``: a permission and a restriction can apply together with no exception between them;
- ``overlap``: a rule that allows case by case (``licence_required``) can apply together with a
  restriction or prohibition, neither an exception to the other nor yielding to it, so it silently
  loses (add ``exception_to`` if it is meant to win, ``yields_to`` if it is meant to lose). Two
  grounds for refusal (``restricted`` and ``prohibited``) accumulate as legal grounds do and are
  not reported;
- ``never-fires``: a condition no transfer can satisfy while the rule is in force;
- ``always-defeated``: whenever it applies, an exception defeats it;
- ``no-citation-detail``: a citation with neither an article nor a URL;
- ``expired``: a rule whose period ended before today (kept for history: fine, but say so);
- ``only-other-sources``: a rule none of whose citations is an official or reputable publisher
  (``rules/sources.yaml``), and which has no ``uncertain:`` saying why;
- ``content-farm-link``: a source or citation URL on a known content farm or scraper.

``sources_report`` is `policy sources`: sources and rules per tier and jurisdiction, the rules
with no official or reputable source, and every content-farm link.
"""

from __future__ import annotations

import datetime as dt
import itertools
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from policy.analysis.diff import OTHER, combinations, fact_dims
from policy.eval.compiled import compile_file
from policy.load.publishers import load_source_tiers, url_links
from policy.model import RESTRICTIVE, ContentFarm, Effect, Publisher, Rule, Source, SourceTiers, Tier, Verdict
from policy.model.errors import Diagnostic, SourceSpan
from policy.model.rulebase import RuleBase


def lint(base: RuleBase, today: dt.date) -> list[Diagnostic]:
    """Every warning for the rulebase, sorted by place."""
    out: list[Diagnostic] = []
    groups = base.world.group_kinds()
    for code, jf in sorted(base.jurisdictions.items()):
        cj = compile_file(jf, groups)
        dims = fact_dims([jf], groups, with_date=True)
        rules = {r.id: r for r in jf.rules}
        compiled = {r.id: r for rs in cj.by_role.values() for r in rs}
        fired: dict[str, int] = {rid: 0 for rid in rules}
        undefeated: dict[str, int] = {rid: 0 for rid in rules}
        pairs: dict[tuple[str, str], dict[str, Any]] = {}
        for idx, facts, day in combinations(dims, code if jf.kind == "state" else None):
            for role in {r.role for r in jf.rules}:
                on = [
                    rid
                    for rid, r in rules.items()
                    if r.role == role and r.in_force(day) and compiled[rid].pred(facts) is True
                ]
                defeated = {t for rid in on for t in rules[rid].exception_to}
                defeated |= {rid for rid in on if any(t in on for t in rules[rid].yields_to)}
                non_default = [rid for rid in on if not rules[rid].default]
                for rid in on:
                    fired[rid] += 1
                    if rid not in defeated and not (rules[rid].default and non_default):
                        undefeated[rid] += 1
                live = [rid for rid in non_default if rid not in defeated]
                for a, b in itertools.combinations(sorted(live), 2):
                    ra, rb = rules[a], rules[b]
                    if ra.effect == rb.effect or Effect.as_direct_export in (ra.effect, rb.effect):
                        continue
                    if (a, b) not in pairs:
                        ex = {
                            d.fact: (
                                d.values[i].isoformat()
                                if isinstance(d.values[i], dt.date)
                                else "any other"
                                if d.values[i] == OTHER
                                else d.values[i]
                            )
                            for d, i in zip(dims, idx)
                        }
                        pairs[(a, b)] = ex
        for rid, r in rules.items():
            span = base.spans.get(rid)
            if fired[rid] == 0:
                out.append(
                    Diagnostic(
                        "never-fires",
                        f"rule `{rid}` can never apply: no transfer satisfies its condition while it is in force",
                        span,
                        "check the condition's values and the rule's period",
                        "warning",
                    )
                )
            elif undefeated[rid] == 0 and not r.default:
                out.append(
                    Diagnostic(
                        "always-defeated",
                        f"rule `{rid}` is defeated by an exception whenever it applies",
                        span,
                        "remove it or narrow its exceptions",
                        "warning",
                    )
                )
            for c in r.citations:
                src = base.source_index.get((code, c.source))
                if not c.article and not c.url and not (src and src.url):
                    out.append(
                        Diagnostic(
                            "no-citation-detail",
                            f"rule `{rid}` cites `{c.instrument}` with neither an article nor a URL",
                            span,
                            "add `article:` or a source `url:`",
                            "warning",
                        )
                    )
            if r.until and r.until < today:
                out.append(
                    Diagnostic(
                        "expired",
                        f"rule `{rid}` ended on {r.until}",
                        span,
                        "fine for history; the engine applies it only to earlier dates",
                        "info",
                    )
                )
        for (a, b), ex in sorted(pairs.items()):
            va, vb = _verdict_of(rules[a].effect), _verdict_of(rules[b].effect)
            permit = Verdict.permitted in (va, vb) and (va in RESTRICTIVE or vb in RESTRICTIVE)
            example = ", ".join(f"{k}={v}" for k, v in ex.items())
            if permit:
                out.append(
                    Diagnostic(
                        "conflict",
                        f"rules `{a}` ({va.value}) and `{b}` ({vb.value}) can apply "
                        f"together with no exception between them: e.g. {example}",
                        base.spans.get(b),
                        "make one an `exception_to` the other, or let one `yields_to` the other",
                        "warning",
                    )
                )
            elif min(va.severity, vb.severity) <= Verdict.licence_required.severity:
                milder = a if va.severity < vb.severity else b
                other = b if milder == a else a
                out.append(
                    Diagnostic(
                        "overlap",
                        f"rules `{a}` ({va.value}) and `{b}` ({vb.value}) can apply "
                        f"together; `{milder}` then never decides: e.g. {example}",
                        base.spans.get(milder),
                        f"if `{milder}` should win, add `exception_to: [{other}]`; if it should give way, "
                        f"add `yields_to: [{other}]`",
                        "warning",
                    )
                )
    out.extend(source_warnings(base))
    return sorted(out, key=Diagnostic.sort_key)


def _verdict_of(effect: Effect) -> Verdict:
    return Verdict(effect.value) if effect is not Effect.as_direct_export else Verdict.undetermined


# ---------------------------------------------------------------- sources a lawyer can follow
# Publishers by tier (``rules/sources.yaml``) and content farms. A source's tier is its URL host's
# tier (``official``, ``reputable`` or ``other``); a host covers its sub-domains and the most specific
# listed host wins; an unlisted host is ``other``. A source with no URL (a seed copy, a treaty named
# without a link) counts by its ``publisher:``, matched against the publishers' ``names``. A citation
# counts by the better of its own ``url`` and its source; a rule by its best citation. A link to a
# listed content farm is ``other`` and is reported. The loader reads the tiers file and the links.

TIERS = (Tier.official, Tier.reputable, Tier.other)
_RANK = {Tier.official: 2, Tier.reputable: 1, Tier.other: 0}


def host_of(url: str | None) -> str | None:
    """The lower-case host of a URL, without ``www.`` and a trailing dot; None when there is none.

    >>> host_of("https://www.EUR-Lex.europa.eu./eli/dec/2014/512/oj"), host_of("not a url")
    ('eur-lex.europa.eu', None)
    """
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    if not host:
        return None
    host = host.rstrip(".")
    return host[4:] if host.startswith("www.") else host


def _matches(pattern: str, host: str) -> int:
    """How specific a match ``pattern`` is for ``host`` (labels matched), 0 for none.

    >>> _matches("un.org", "press.un.org"), _matches("blogspot.*", "x.blogspot.co.uk"), _matches("un.org", "un.org.x")
    (2, 1, 0)
    """
    labels = host.split(".")
    if pattern.endswith(".*"):
        want = pattern[:-2].split(".")
        for i in range(len(labels) - len(want)):
            rest = len(labels) - i - len(want)
            if labels[i : i + len(want)] == want and 1 <= rest <= 2:
                return len(want)
        return 0
    want = pattern.split(".")
    return len(want) if labels[-len(want) :] == want else 0


class Tiers:
    """Lookups over a publisher-tiers file (an empty one when the rulebase has none)."""

    def __init__(self, data: SourceTiers | None) -> None:
        self.data = data
        self.publishers: list[Publisher] = list(data.publishers) if data else []
        self.farms: list[ContentFarm] = list(data.content_farms) if data else []
        self._names = {n.casefold(): p for p in self.publishers for n in [*p.names, *([p.name] if p.name else [])]}
        self._cache: dict[str, tuple[Publisher | None, ContentFarm | None]] = {}

    def _lookup(self, host: str) -> tuple[Publisher | None, ContentFarm | None]:
        if host not in self._cache:
            pub = max(self.publishers, key=lambda p: _matches(p.host, host), default=None)
            farm = max(self.farms, key=lambda f: _matches(f.host, host), default=None)
            self._cache[host] = (
                pub if pub and _matches(pub.host, host) else None,
                farm if farm and _matches(farm.host, host) else None,
            )
        return self._cache[host]

    def publisher(self, host: str | None) -> Publisher | None:
        return self._lookup(host)[0] if host else None

    def farm(self, host: str | None) -> ContentFarm | None:
        """The content-farm entry for a host, if it is one."""
        return self._lookup(host)[1] if host else None

    def host_tier(self, host: str | None) -> Tier:
        if not host or self.farm(host):
            return Tier.other
        pub = self.publisher(host)
        return pub.tier if pub else Tier.other

    def source_tier(self, source: Source | None) -> Tier:
        """A source's tier: its URL's host, else its ``publisher:`` name, else ``other``."""
        if source is None:
            return Tier.other
        if source.url:
            return self.host_tier(host_of(source.url))
        pub = self._names.get((source.publisher or "").strip().casefold())
        return pub.tier if pub else Tier.other

    def rule_tier(self, base: RuleBase, code: str, rule: Rule) -> Tier:
        """The best tier among a rule's citations (each the better of its own URL and its source)."""
        best = Tier.other
        for c in rule.citations:
            for t in (self.source_tier(base.source_index.get((code, c.source))), self.host_tier(host_of(c.url))):
                if _RANK[t] > _RANK[best]:
                    best = t
        return best


def tiers_of(base: RuleBase) -> Tiers:
    """The publisher tiers among the rulebase's files (empty when it has none)."""
    return Tiers(load_source_tiers(list(base.files)))


@dataclass
class FarmLink:
    """A link to a content farm or scraper, where it is written."""

    span: SourceSpan
    url: str
    host: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {
            "file": self.span.file,
            "line": self.span.line,
            "col": self.span.col,
            "url": self.url,
            "host": self.host,
            "reason": self.reason,
        }


def farm_links(tiers: Tiers, files: list[str]) -> list[FarmLink]:
    """Every `url:` in ``files`` whose host is a listed content farm, in file and line order."""
    out = []
    for span, url in url_links(files):
        host = host_of(url)
        farm = tiers.farm(host)
        if farm is not None and host is not None:
            out.append(FarmLink(span, url, host, farm.reason))
    return sorted(out, key=lambda f: (f.span.file, f.span.line, f.span.col))


def source_warnings(base: RuleBase) -> list[Diagnostic]:
    """The source warnings: rules citing only `other`-tier sources (without `uncertain:`),
    and links to content farms. A note, and nothing else, when the rulebase has no tiers file."""
    tiers = tiers_of(base)
    if tiers.data is None:
        return [
            Diagnostic(
                "no-source-tiers",
                "no `policy-sources/v1` file among the rules: source tiers and content farms not checked",
                None,
                "lint the whole rules folder (it holds rules/sources.yaml)",
                "info",
            )
        ]
    out = []
    for code, rule in base.all_rules():
        if rule.uncertain or tiers.rule_tier(base, code, rule) is not Tier.other:
            continue
        hosts = sorted(
            {
                host_of(s.url) or "no URL"
                for c in rule.citations
                for s in [base.source_index.get((code, c.source))]
                if s is not None
            }
        )
        out.append(
            Diagnostic(
                "only-other-sources",
                f"rule `{rule.id}` cites no official or reputable source (only: {', '.join(hosts)})",
                base.spans.get(rule.id),
                "cite the official publisher (legislation database, official journal, government, parliament or "
                "court site, UN or EU document) or a reputable report (wire agency, major newspaper, research "
                "institute); if none was found, say so in the rule's `uncertain:`",
                "warning",
            )
        )
    for link in farm_links(tiers, list(base.files)):
        out.append(
            Diagnostic(
                "content-farm-link",
                f"link to `{link.host}`, a content farm or scraper ({link.reason}): {link.url}",
                link.span,
                "link the original publisher's page instead (the official text, or the wire or newspaper it copies); "
                "if none was found, drop the URL, name the instrument and publisher, and lower `confidence`",
                "warning",
            )
        )
    return out


@dataclass
class TierCounts:
    """Sources and rules per tier, for one jurisdiction or all."""

    sources: dict[str, int] = field(default_factory=lambda: {t.value: 0 for t in TIERS})
    rules: dict[str, int] = field(default_factory=lambda: {t.value: 0 for t in TIERS})

    def to_json(self) -> dict[str, Any]:
        return {"sources": dict(self.sources), "rules": dict(self.rules)}


@dataclass
class WeakRule:
    """A rule with no official or reputable source."""

    jurisdiction: str
    rule: str
    span: SourceSpan | None
    uncertain: bool

    def to_json(self) -> dict[str, Any]:
        s = self.span
        return {
            "jurisdiction": self.jurisdiction,
            "rule": self.rule,
            "file": s.file if s else None,
            "line": s.line if s else None,
            "uncertain": self.uncertain,
        }


@dataclass
class SourcesReport:
    """`policy sources`: how far the rulebase's sources can be followed."""

    has_tiers: bool
    total: TierCounts
    by_jurisdiction: dict[str, TierCounts]
    weak_rules: list[WeakRule]
    farm_links: list[FarmLink]

    def to_json(self) -> dict[str, Any]:
        return {
            "tiers_file": self.has_tiers,
            "total": self.total.to_json(),
            "jurisdictions": {code: c.to_json() for code, c in self.by_jurisdiction.items()},
            "rules_without_official_or_reputable_source": [w.to_json() for w in self.weak_rules],
            "content_farm_links": [f.to_json() for f in self.farm_links],
        }


def sources_report(base: RuleBase, extra_files: list[str] | None = None) -> SourcesReport:
    """Sources and rules per tier (overall and per jurisdiction), the rules with no official or
    reputable source, and every content-farm link in the rulebase's files and ``extra_files``
    (e.g. scenarios)."""
    tiers = tiers_of(base)
    total = TierCounts()
    by: dict[str, TierCounts] = {}
    weak = []
    for code in sorted(base.jurisdictions):
        jf = base.jurisdictions[code]
        counts = by.setdefault(code, TierCounts())
        for s in jf.sources:
            t = tiers.source_tier(s).value
            counts.sources[t] += 1
            total.sources[t] += 1
        for r in jf.rules:
            rt = tiers.rule_tier(base, code, r)
            counts.rules[rt.value] += 1
            total.rules[rt.value] += 1
            if rt is Tier.other:
                weak.append(WeakRule(code, r.id, base.spans.get(r.id), bool(r.uncertain)))
    files = list(base.files) + [f for f in extra_files or [] if f not in base.files]
    return SourcesReport(tiers.data is not None, total, by, weak, farm_links(tiers, files))


def render_sources_text(rep: SourcesReport) -> str:
    """`policy sources` for people."""
    lines = []
    if not rep.has_tiers:
        lines.append("note: no `policy-sources/v1` file among the rules; every host counts as `other`")
    head = f"{'jurisdiction':<12}  {'sources: official':>17} {'reputable':>9} {'other':>5}   {'rules: official':>15} "
    head += f"{'reputable':>9} {'other':>5}"
    lines.append(head)

    def row(name: str, c: TierCounts) -> str:
        s, r = c.sources, c.rules
        return (
            f"{name:<12}  {s['official']:>17} {s['reputable']:>9} {s['other']:>5}   "
            f"{r['official']:>15} {r['reputable']:>9} {r['other']:>5}"
        )

    lines += [row(code, c) for code, c in rep.by_jurisdiction.items()]
    lines.append(row("total", rep.total))
    lines.append("")
    lines.append(f"{len(rep.weak_rules)} rules with no official or reputable source" + (":" if rep.weak_rules else ""))
    for w in rep.weak_rules:
        note = "  (has uncertain:)" if w.uncertain else ""
        lines.append(f"  {w.span or w.jurisdiction}: {w.rule}{note}")
    lines.append("")
    lines.append(f"{len(rep.farm_links)} links to content farms or scrapers" + (":" if rep.farm_links else ""))
    for f in rep.farm_links:
        lines.append(f"  {f.span}: {f.host}: {f.url}")
    return "\n".join(lines) + "\n"


__all__ = [
    "SourcesReport",
    "Tiers",
    "farm_links",
    "host_of",
    "lint",
    "render_sources_text",
    "source_warnings",
    "sources_report",
]
