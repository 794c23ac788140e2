"""A per-user cache of loaded rulebases: a cold ``policy what-if`` skips parsing and validating YAML.

Loading the shipped rules (parse, validate, check) costs more than evaluating a transfer, and
the rules rarely change between two commands. So a successful load is stored in the user's
cache folder (``$XDG_CACHE_HOME/policy``, else ``~/.cache/policy``) and reused while its key
matches. The key is a sha256 over

* the format of this cache, the package version, the exact Python build and pydantic's version
  (where its ``version.py`` lies and its bytes: reading it does not import pydantic, which a
  warm ``policy batch`` never needs);
* the source of the modules that shape a loaded rulebase (``policy/model``, ``policy/load``),
  so that a changed model or check in a checkout never meets an entry built by older code;
* where pycountry's code and data lie and when they were written (``countries.data_stamp``): an
  entry also holds the country table built from pycountry, so a hit needs no pycountry import;
* the working directory (files are shown relative to it, seeds are looked for from it);
* every rule file that the paths stand for: its path as given, as shown, and the sha256 of its
  bytes (the loader's text, ``yamlio.read_text``, is their UTF-8 decoding).

The files' contents are hashed on every command, not their sizes and modification times: an
edit that keeps the size and the time (a tool that restores mtimes, two saves within the clock's
resolution) must still be seen. Hashing the shipped rules (47 files, 1.1 MB) costs ~2 ms.

Any change to a rule file, a new or removed file, another version: another key, and the rules are
loaded again and the entry replaced. Only successful loads are stored; errors are always found
by loading. Overlays are not in the key because the cache never sees them: they are applied to
the rulebase after it is loaded (``apply_overlays``), cached or not.

The cache can only make loading faster, never change a result and never fail a command: an
unwritable folder, a corrupt, truncated or foreign file, a mismatching key or checksum, or any
error while reading one, and the rules are loaded as if there were no cache. ``POLICY_CACHE=0``
(or ``policy --no-cache``) turns it off. It is bypassed while files are read through a substitute
for ``yamlio.read_text`` (the editor and language server check unsaved buffers that way).

Entries are pickles. Pickle runs code when loaded, so it is only acceptable for a private cache:
the folder is created readable by its owner only, and an entry is read only when it is a regular
file owned by the current user and not writable by anyone else, carries this format's magic
line and the expected key, and its payload matches the sha256 in its header. It is never a
format for exchanging rules (that is YAML). Pickle is used because it rebuilds the validated
pydantic objects without validating them again, which is the work the cache is there to skip;
re-validating JSON would cost most of what loading costs.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import stat
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, TextIO, cast

from policy import __version__
from policy.load.discover import seed_exists, shown_yaml_files
from policy.model.countries import CountryTable, country_table, data_stamp, use_table

if TYPE_CHECKING:
    from policy.model.rulebase import RuleBase

FORMAT = 2
MAGIC = b"policy-rulebase-cache/%d\n" % FORMAT
ENV_VAR = "POLICY_CACHE"
MAX_ENTRIES = 32  # entries beyond this many (the least recently written) are removed on writing
_OFF = {"0", "off", "false", "no"}
_SWITCH = {"on": True}
_CODE = ("model", "load")  # the subpackages whose source shapes a loaded rulebase
LARGEST = 2 * 1024 * 1024  # yamlio.MAX_BYTES (a test keeps them equal): a larger file is not loaded


def use_cache(on: bool) -> None:
    """Turn the cache on or off for this process (``policy --no-cache``); POLICY_CACHE=0 still wins."""
    _SWITCH["on"] = on


def enabled() -> bool:
    """Whether the cache is used: not after ``use_cache(False)``, nor when ``POLICY_CACHE`` is 0/off/false/no."""
    return _SWITCH["on"] and os.environ.get(ENV_VAR, "").strip().lower() not in _OFF


def cache_dir() -> Path:
    """``$XDG_CACHE_HOME/policy`` (an absolute XDG_CACHE_HOME only, as the spec says), else ``~/.cache/policy``."""
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    root = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return root / "policy"


@dataclass(frozen=True)
class Key:
    """Where an entry lives (one file per working directory and list of paths) and what it must hold."""

    slot: str
    digest: str

    def path(self, folder: Path) -> Path:
        return folder / f"rulebase-{self.slot}.pickle"


def _code_digest() -> str:
    h = hashlib.sha256()
    package = Path(__file__).resolve().parent.parent
    for sub in _CODE:
        for f in sorted((package / sub).glob("*.py")):
            h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


def _pydantic_stamp() -> str:
    """Where pydantic's ``version.py`` lies and the sha256 of its bytes (it names the version)."""
    from importlib.util import find_spec

    spec = find_spec("pydantic")
    if spec is None or not spec.origin:
        return "-"
    version = Path(spec.origin).with_name("version.py")
    return f"{version}\0{hashlib.sha256(version.read_bytes()).hexdigest()}"


def key_for(paths: list[str]) -> Key | None:
    """The key of a load of ``paths``; None when the files cannot be listed or read (loading says why)."""
    yamlio = sys.modules.get("policy.load.yamlio")  # not imported here: it imports YAML, which a hit never needs
    if yamlio is not None and getattr(yamlio.read_text, "__module__", None) != yamlio.__name__:
        return None  # files are read through a substitute (the editor's unsaved buffers): no cache
    try:
        cwd = os.getcwd()
        head = "\0".join(
            [
                MAGIC.decode(),
                __version__,
                sys.version,
                sys.implementation.cache_tag or "",
                _pydantic_stamp(),
                _code_digest(),
                data_stamp() or "-",
                cwd,
            ]
        )
        h = hashlib.sha256(head.encode("utf-8", "surrogateescape"))
        for f, shown in shown_yaml_files(paths):
            with open(f, "rb") as fh:  # the bytes the loader will decode (yamlio.read_text is a function of them)
                raw = fh.read(LARGEST + 1)
            if len(raw) > LARGEST:
                return None  # too large to load: loading says so
            digest = hashlib.sha256(raw).hexdigest()
            h.update(f"\0{f}\0{shown}\0{digest}".encode("utf-8", "surrogateescape"))
        given = "\0".join([cwd, *(os.path.abspath(p) for p in paths)])
        slot = hashlib.sha256(given.encode("utf-8", "surrogateescape")).hexdigest()[:32]
    except Exception:  # noqa: BLE001 - a missing or unreadable path: no key; loading reports it
        return None
    return Key(slot, h.hexdigest())


def _private(st: os.stat_result) -> bool:
    """A regular file of this user that nobody else may write (anything else is not trusted)."""
    if not stat.S_ISREG(st.st_mode) or st.st_mode & (stat.S_IWGRP | stat.S_IWOTH):
        return False
    getuid = getattr(os, "getuid", None)
    return getuid is None or st.st_uid == getuid()


def read_entry(path: Path, magic: bytes, digest: str) -> bytes | None:
    """The payload of the private entry at ``path`` when it carries ``magic`` and ``digest`` and its
    checksum holds; None when it is absent, foreign, corrupt or stale (``write_entry`` writes one)."""
    try:
        with open(path, "rb") as fh:
            if not _private(os.fstat(fh.fileno())):
                return None
            blob = fh.read()
    except OSError:
        return None
    header = magic + digest.encode() + b"\n"
    if not blob.startswith(header):
        return None
    checksum, _, payload = blob[len(header) :].partition(b"\n")
    if hashlib.sha256(payload).hexdigest().encode() != checksum:
        return None
    return payload


def read(key: Key, folder: Path | None = None) -> RuleBase | None:
    """The rulebase stored under ``key``, or None (absent, foreign, corrupt, stale or unreadable)."""
    from policy.model.rulebase import RuleBase, paused_gc

    try:
        payload = read_entry(key.path(folder or cache_dir()), MAGIC, key.digest)
        if payload is None:
            return None
        with paused_gc():
            digest, seeds, base, table = pickle.loads(payload)
        if digest != key.digest or not isinstance(base, RuleBase):
            return None
        if not all(seed_exists(seed, file) for seed, file in seeds):
            return None  # a seed file went missing: loading reports it
        if table is not None:
            use_table(table)
        return base
    except Exception:  # noqa: BLE001 - whatever is wrong with an entry, the rules are loaded instead
        return None


def _seeds(base: RuleBase) -> list[tuple[str, str]] | None:
    """(seed, rule file) for every source with a seed, to check on reading; None if a file is unknown."""
    out = []
    for jf in base.jurisdictions.values():
        seeded = [s.seed for s in jf.sources if s.seed]
        if not seeded:
            continue
        span = next((base.spans[r.id] for r in jf.rules if r.id in base.spans), None)
        if span is None:
            return None
        out += [(seed, span.file) for seed in seeded]
    return sorted(out)


def write(key: Key, base: RuleBase, folder: Path | None = None) -> bool:
    """Store ``base`` under ``key`` atomically; False (and nothing written) when that is not possible."""
    try:
        folder = folder or cache_dir()  # Path.home() raises when there is no home
        seeds = _seeds(base)
        if seeds is None:
            return False
        table: CountryTable | None = country_table() if data_stamp() else None
        payload = pickle.dumps((key.digest, seeds, base, table), protocol=pickle.HIGHEST_PROTOCOL)
        return write_entry(key.path(folder), MAGIC, key.digest, payload)
    except Exception:  # noqa: BLE001 - an unwritable or full cache folder is no error
        return False


def write_entry(path: Path, magic: bytes, digest: str, payload: bytes) -> bool:
    """Store ``payload`` at ``path`` (in the cache folder) atomically, readable by its owner only, under
    ``magic`` and ``digest`` with its checksum; older entries of the same kind beyond ``MAX_ENTRIES``
    are removed. False (and nothing written) when that is not possible."""
    from policy.load.atomic import AtomicFile

    try:
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        f = AtomicFile(path, durable=False)  # an entry torn by a crash fails its checksum: no fsync
        try:
            out = cast(TextIO, f.handle).buffer
            out.write(magic + digest.encode() + b"\n")
            out.write(hashlib.sha256(payload).hexdigest().encode() + b"\n")
            out.write(payload)
            f.mode = 0o600
        except BaseException:
            f.discard()
            raise
        f.commit()
        _prune(path.parent, keep=path)
        return True
    except Exception:  # noqa: BLE001 - an unwritable or full cache folder is no error
        return False


def _prune(folder: Path, keep: Path) -> None:
    """Remove the least recently written entries of ``keep``'s kind beyond MAX_ENTRIES (never ``keep``)."""
    kind = keep.name.split("-", 1)[0]
    try:
        entries = sorted((p.stat().st_mtime, str(p)) for p in folder.glob(f"{kind}-*.pickle") if p != keep)
        for _, name in entries[: max(0, len(entries) - MAX_ENTRIES + 1)]:
            os.unlink(name)
    except OSError:
        pass  # another process pruned or wrote at the same time


def load_rulebase(paths: list[str] | None = None) -> RuleBase:
    """``loader.load_rulebase``, importing the loader (and YAML) only when the cache cannot answer."""
    if not paths:
        from policy.load.rulesource import choose_rules

        paths = choose_rules()[0]
    return cached_rulebase(paths)


def cached_rulebase(paths: list[str], build: Callable[[list[str]], RuleBase] | None = None) -> RuleBase:
    """The rulebase of ``paths``: from the cache when an entry for exactly these files exists,
    else built (by ``build``, default the loader's ``build_rulebase``) and stored for next time."""
    key = key_for(paths) if enabled() else None
    if key is not None:
        hit = read(key)
        if hit is not None:
            return hit
    if build is None:
        from policy.load.loader import build_rulebase

        build = build_rulebase
    base = build(paths)
    if key is not None:
        write(key, base)
    return base
