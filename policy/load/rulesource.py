"""Which rules are in use, and why: ``--rules``, ``$POLICY_RULES``, ``./rules``, or the rules bundled
with the package (``policy --version``, ``policy where``).

The rules ship inside the package as ``policy/_data/rules`` (with the seeds and editor schema beside
them); in a source checkout the repository's top-level ``rules/`` is used instead, so the repository
stays the only source of truth.
"""

import datetime as dt
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from policy import __version__
from policy.load.discover import ENV_VAR, PACKAGE_DIR, RulesOrigin, bundled_rules_path, choose_rules
from policy.model.rulebase import RuleBase

__all__ = ["ENV_VAR", "PACKAGE_DIR", "RulesOrigin", "bundled_rules_path", "choose_rules", "RulesInfo", "RuleFileInfo"]


class RuleFileInfo(BaseModel):
    model_config = ConfigDict(defer_build=True)  # built on first use: `what-if` imports this module, never these
    path: str = Field(description="the file as loaded (relative to the working directory when inside it)")
    kind: str = Field(description="rules, world or items")
    jurisdiction: str | None = Field(None, description="for a rule file, the jurisdiction it encodes")
    rules: int = Field(0, description="number of rules in the file")
    sha256: str


class RulesInfo(BaseModel):
    """The rules in use: where they come from, their digest and date, and every file."""

    model_config = ConfigDict(defer_build=True)

    package_version: str
    origin: RulesOrigin
    paths: list[str] = Field(description="the paths given to the loader, made absolute")
    digest: str = Field(description="sha256 over the files' digests, as in each decision's record")
    date: dt.date | None = Field(None, description="the newest date of any source the rules cite")
    jurisdictions: int
    rule_count: int
    files: list[RuleFileInfo]

    def summary(self) -> str:
        """One line for ``policy --version``."""
        dated = f", sources up to {self.date}" if self.date else ""
        return (
            f"rules {self.digest[:16]} ({len(self.files)} files, {self.rule_count} rules{dated}) "
            f"from {', '.join(self.paths)} [{self.origin.value}]"
        )


def rules_info(base: RuleBase, paths: list[str], origin: RulesOrigin) -> RulesInfo:
    """Describe a loaded rulebase (see ``policy where``)."""
    by_file: dict[str, tuple[str, int]] = {}
    for jcode, jf in base.jurisdictions.items():
        span = next((base.spans[r.id] for r in jf.rules if r.id in base.spans), None)
        if span is not None:
            by_file[span.file] = (jcode, len(jf.rules))
    files = []
    for path, sha in sorted(base.files.items()):
        code: str | None
        if path in by_file:
            kind, (code, n) = "rules", by_file[path]
        else:
            kind, code, n = _kind_of(path), None, 0
        files.append(RuleFileInfo(path=path, kind=kind, jurisdiction=code, rules=n, sha256=sha))
    dates = [s.date for s in base.source_index.values() if s.date]
    dates += [s.date for it in base.items.values() for s in it.sources if s.date]
    return RulesInfo(
        package_version=__version__,
        origin=origin,
        paths=[str(Path(p).resolve()) for p in paths],
        digest=rulebase_digest(base),
        date=max(dates) if dates else None,
        jurisdictions=len(base.jurisdictions),
        rule_count=sum(len(j.rules) for j in base.jurisdictions.values()),
        files=files,
    )


def rulebase_digest(base: RuleBase) -> str:
    """The digest in each decision's record (``RuleBase.digest``, defined once)."""
    return base.digest()


def _kind_of(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            head = fh.read(4096)
    except OSError:
        return "unknown"
    for kind in ("world", "items", "rules"):
        if f"policy-{kind}/" in head:
            return kind
    return "unknown"
