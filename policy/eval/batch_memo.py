"""What a columnar batch has learned, kept between runs: a warm ``policy batch`` loads no rules.

As it screens, a :class:`~policy.eval.batch_columns.ColumnarScreener` learns each raw value's id,
each line's meaning and each meaning's result. Those tables are a function of the rules, of the
code and of whether the input is CSV (which reads `lethal` as text), nothing else: kept in the
user's cache folder beside the rulebase cache, they let the next batch over the same rules answer
every line whose values and meaning it has met before without loading the rules, pydantic or the
compiled screener at all. The rules are loaded the moment a line brings something new (or beside
the batch, in a helper process: ``batch_rules``), and what that line teaches is kept too.

The entry has the rulebase cache's guarantees (``policy.load.cache``): written atomically and
readable by its owner only; read only when private, carrying this format's magic line and the
expected key, and matching its checksum; anything wrong and the batch starts afresh. The key is
the rulebase cache key (the rule files' bytes, the model and loader code, the versions, the working
directory) with the sha256 of ``policy/eval``'s source and the input kind; a run with overlays,
with the cache off (``POLICY_CACHE=0``, ``--no-cache``) or given a loaded rulebase uses none.

Output is byte-identical with or without it (``tests/test_batch_memo.py``).
"""

from __future__ import annotations

import hashlib
import pickle
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from policy.load import cache

if TYPE_CHECKING:
    from policy.eval.batch_columns import ColumnarScreener
    from policy.model.rulebase import RuleBase

FORMAT = 1
MAGIC = b"policy-batch-memo/%d\n" % FORMAT
MAX_BYTES = 16 << 20
"""A larger state is not kept: reading it would cost more than the screening it saves."""


@dataclass(frozen=True)
class RuleFiles:
    """Rules named by their paths and loaded (through the rulebase cache) only when first needed."""

    paths: tuple[str, ...]

    def load(self) -> RuleBase:
        return cache.load_rulebase(list(self.paths))


def _eval_digest() -> str:
    h = hashlib.sha256()
    for f in sorted(Path(__file__).resolve().parent.glob("*.py")):
        h.update(f.name.encode() + b"\0" + f.read_bytes() + b"\0")
    return h.hexdigest()


@dataclass(frozen=True)
class Memo:
    """One kept state: where it lies and the digest it must carry."""

    path: Path
    digest: str

    def read(self) -> ColumnarScreener | None:
        """The screener as the last run left it (not bound to rules), or None."""
        from policy.eval.batch_columns import ColumnarScreener

        payload = cache.read_entry(self.path, MAGIC, self.digest)
        if payload is None:
            return None
        try:
            state = pickle.loads(payload)
        except Exception:  # noqa: BLE001 - a corrupt or foreign entry: start afresh
            return None
        return state if isinstance(state, ColumnarScreener) else None

    def current(self) -> bool:
        """Whether a state for exactly these rules and this code is kept (its header only is read: a
        state kept for rules since edited lies at the same path, and is not current)."""
        header = MAGIC + self.digest.encode() + b"\n"
        try:
            with open(self.path, "rb") as fh:
                return fh.read(len(header)) == header
        except OSError:
            return False

    def write(self, cs: ColumnarScreener) -> bool:
        """Keep what ``cs`` has learned; False (nothing written) when too large or not writable."""
        try:
            payload = pickle.dumps(cs, protocol=pickle.HIGHEST_PROTOCOL)
        except Exception:  # noqa: BLE001 - a value that does not pickle: nothing kept
            return False
        if len(payload) > MAX_BYTES:
            return False
        return cache.write_entry(self.path, MAGIC, self.digest, payload)


def memo_for(rules: RuleFiles, text: bool) -> Memo | None:
    """Where the state for these rule files and this input kind is kept; None with the cache off
    or when the files cannot be read (loading will say why)."""
    if not cache.enabled():
        return None
    key = cache.key_for(list(rules.paths))
    if key is None:
        return None
    try:
        folder = cache.cache_dir()
    except Exception:  # noqa: BLE001 - no home folder: no cache
        return None
    kind = "csv" if text else "json"
    digest = hashlib.sha256(f"{MAGIC.decode()}\0{key.digest}\0{_eval_digest()}\0{kind}".encode()).hexdigest()
    return Memo(folder / f"batch-{key.slot}-{kind}.pickle", digest)
