"""What a batch learned is kept between runs (policy.eval.batch_memo): the output never changes,
and a warm run loads no rules, pydantic or typer."""

import json
import os
import random
import shutil
import subprocess
import sys

import pytest

from policy.eval import batch_memo, batch_run
from policy.eval.batch_memo import RuleFiles, memo_for
from policy.eval.batch_run import BatchJob, run_batch
from policy.load import cache

from .conftest import ROOT
from .test_batch_columns import _line


def _book(path, seed: int, n: int = 3000) -> None:
    rng = random.Random(seed)
    path.write_text("\n".join(_line(rng, i) for i in range(n)) + "\n", encoding="utf-8", newline="")


def _run(rules, src, out, **kw):
    errors: list = []
    tally = run_batch(rules, BatchJob(str(src), str(out), **kw), lambda *e: errors.append(e))
    return out.read_bytes(), errors, (tally.read, tally.screened, tally.bad)


@pytest.fixture
def own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    return tmp_path / "cache" / "policy"


def _plain_book(path, seed: int, n: int = 500) -> None:
    """Plain lines only (a bad line, or one with `via`, goes to the per-line path, which needs the rules)."""
    rng = random.Random(seed)
    lines = [
        json.dumps(
            {
                "id": i,
                "date": f"{rng.randint(2000, 2026)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
                "exporter": rng.choice(["KR", "DE", "NO", "CH"]),
                "recipient": rng.choice(["UA", "SA", "PL", "RU"]),
                "item": rng.choice(["ML1", "ML3", "helmet", "k2-tank"]),
            }
        )
        for i in range(n)
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def _no_rules(self):
    raise AssertionError("a warm run loaded the rules")


def test_warm_runs_give_the_same_output(tmp_path, own_cache, shipped):
    rules = RuleFiles((str(ROOT / "rules"),))
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _book(first, 1)
    _book(second, 2)
    reference = {src: _run(shipped, src, tmp_path / "ref.jsonl") for src in (first, second)}

    assert _run(rules, first, tmp_path / "o1.jsonl") == reference[first]  # cold: learns, keeps it
    kept = list(own_cache.glob("batch-*-json.pickle"))
    assert len(kept) == 1 and (kept[0].stat().st_mode & 0o777) == 0o600
    assert _run(rules, first, tmp_path / "o2.jsonl") == reference[first]  # warm
    assert _run(rules, second, tmp_path / "o3.jsonl") == reference[second]  # new values and meanings
    assert _run(rules, second, tmp_path / "o4.jsonl") == reference[second]
    assert _run(rules, first, tmp_path / "o5.jsonl") == reference[first]
    # two processes over a warm state, and CSV output, agree too
    assert _run(rules, second, tmp_path / "o6.jsonl", workers=2) == reference[second]
    csv_ref = _run(shipped, first, tmp_path / "r.csv", out_fmt="csv")
    assert _run(rules, first, tmp_path / "o7.csv", out_fmt="csv") == csv_ref


def test_a_warm_run_of_known_lines_loads_no_rules(tmp_path, own_cache, monkeypatch, shipped):
    rules = RuleFiles((str(ROOT / "rules"),))
    src, bigger = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _plain_book(src, 1, 300)
    _plain_book(bigger, 1, 600)  # the same lines first, then new ones
    reference = _run(shipped, src, tmp_path / "ref.jsonl")
    _run(rules, src, tmp_path / "o1.jsonl")
    with monkeypatch.context() as m:
        m.setattr(RuleFiles, "load", _no_rules)
        assert _run(rules, src, tmp_path / "o2.jsonl") == reference
        with pytest.raises(AssertionError, match="loaded the rules"):
            _run(rules, bigger, tmp_path / "o3.jsonl")  # a new meaning: the rules are needed
    assert _run(rules, bigger, tmp_path / "o4.jsonl") == _run(shipped, bigger, tmp_path / "ref2.jsonl")
    with monkeypatch.context() as m:
        m.setattr(RuleFiles, "load", _no_rules)
        assert _run(rules, bigger, tmp_path / "o5.jsonl") == _run(shipped, bigger, tmp_path / "ref2.jsonl")


def test_a_changed_rule_file_is_another_state(tmp_path, own_cache, monkeypatch, shipped):
    rules_dir = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", rules_dir)
    rules = RuleFiles((str(rules_dir),))
    before = memo_for(rules, text=False)
    src = tmp_path / "in.jsonl"
    _book(src, 3, 500)
    _run(rules, src, tmp_path / "o.jsonl")
    assert before is not None and before.read() is not None
    target = next(rules_dir.glob("*.yaml"))
    target.write_text(target.read_text(encoding="utf-8") + "\n# edited\n", encoding="utf-8")
    after = memo_for(rules, text=False)
    assert after is not None and after.digest != before.digest and after.read() is None
    assert after.path == before.path and before.current() and not after.current()
    # the stale state is no warm start: the run learns for the edited rules, in one process, and keeps
    # it (a warm run this large would take two processes, which keep nothing)
    monkeypatch.setattr(batch_run, "WARM_PARALLEL_BYTES", 0)
    monkeypatch.setattr(batch_run, "idle_core", lambda: True)
    _run(rules, src, tmp_path / "o2.jsonl")
    assert after.current() and after.read() is not None


def test_a_corrupt_or_foreign_state_is_ignored(tmp_path, own_cache, shipped):
    rules = RuleFiles((str(ROOT / "rules"),))
    src = tmp_path / "in.jsonl"
    _book(src, 4, 500)
    reference = _run(shipped, src, tmp_path / "ref.jsonl")
    _run(rules, src, tmp_path / "o.jsonl")
    memo = memo_for(rules, text=False)
    assert memo is not None
    blob = memo.path.read_bytes()
    memo.path.write_bytes(blob[:-10] + b"0123456789")  # the checksum no longer holds
    assert memo.read() is None
    assert _run(rules, src, tmp_path / "o2.jsonl") == reference
    os.chmod(memo.path, 0o666)  # writable by others: not trusted
    assert memo.read() is None
    os.chmod(memo.path, 0o600)
    assert memo.read() is not None


def test_no_state_with_the_cache_off(tmp_path, own_cache, monkeypatch):
    monkeypatch.setenv(cache.ENV_VAR, "0")
    assert memo_for(RuleFiles((str(ROOT / "rules"),)), text=False) is None


def test_a_state_too_large_is_not_kept(tmp_path, own_cache, monkeypatch):
    monkeypatch.setattr(batch_memo, "MAX_BYTES", 100)
    src = tmp_path / "in.jsonl"
    _book(src, 5, 200)
    _run(RuleFiles((str(ROOT / "rules"),)), src, tmp_path / "o.jsonl")
    assert not list(own_cache.glob("batch-*"))


def test_a_warm_command_imports_neither_pydantic_nor_typer(tmp_path):
    src, out, seen = tmp_path / "in.jsonl", tmp_path / "out.jsonl", tmp_path / "modules.txt"
    _plain_book(src, 6)
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache")}
    # the modules of the command's own process at its exit (a helper process it forks is not counted)
    code = (
        "import os, sys\n"
        "end = os._exit\n"  # the quick batch ends with os._exit: its modules are listed first
        f"os._exit = lambda c: (open({str(seen)!r}, 'w').write('\\n'.join(sorted(sys.modules))), end(c))\n"
        f"sys.argv = ['policy', 'batch', {str(src)!r}, '-o', {str(out)!r}]\n"
        "from policy.cli import run\n"
        "run()\n"
    )
    # the cold run may load the rules in this process or in a helper beside it (when a core is idle)
    cold = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=False, cwd=ROOT)
    first = out.read_bytes()
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, check=False, cwd=ROOT)
    warm_modules = set(seen.read_text().split())
    assert cold.returncode == res.returncode == 0
    assert out.read_bytes() == first and first.count(b"\n") == 500
    assert {"numpy", "msgspec", "policy.eval.batch_columns"} <= warm_modules
    assert not {"pydantic", "typer", "yaml", "policy.eval.compiled"} & warm_modules


@pytest.mark.parametrize("idle", [True, False])
def test_with_or_without_a_helper_the_output_is_the_same(tmp_path, own_cache, monkeypatch, shipped, idle):
    """A core idle: the rules load in a helper beside a warm batch (batch_rules.RulesBeside)."""
    monkeypatch.setattr(batch_run, "idle_core", lambda: idle)
    helpers: list = []
    real = batch_run.RulesBeside
    monkeypatch.setattr(batch_run, "RulesBeside", lambda here: helpers.append(real(here)) or helpers[-1])
    rules = RuleFiles((str(ROOT / "rules"),))
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    _book(first, 8)
    _book(second, 9)
    for src in (first, second, first):  # cold, then warm with new values, then warm
        assert _run(rules, src, tmp_path / "o.jsonl") == _run(shipped, src, tmp_path / "ref.jsonl")
    assert len(helpers) == (2 if idle else 0)  # the warm runs only
    assert all(not h.process.is_alive() for h in helpers)


def test_a_core_is_idle_when_the_tasks_running_now_or_the_load_average_leave_one_free(tmp_path, monkeypatch):
    monkeypatch.setattr(os, "cpu_count", lambda: 2)
    now = tmp_path / "loadavg"
    monkeypatch.setattr(os, "getloadavg", lambda: (1.4, 1.1, 0.9))  # busy through the last minute
    now.write_text("1.40 1.10 0.90 1/80 4242\n")  # but only this task running now
    assert batch_run.idle_core(str(now))
    now.write_text("1.40 1.10 0.90 2/80 4242\n")  # and another task running now
    assert not batch_run.idle_core(str(now))
    assert not batch_run.idle_core(str(tmp_path / "missing"))  # the load average decides
    monkeypatch.setattr(os, "getloadavg", lambda: (0.2, 0.2, 0.2))
    assert batch_run.idle_core(str(now))  # another task starting now, the minute was quiet
    monkeypatch.setattr(os, "cpu_count", lambda: 1)
    assert not batch_run.idle_core(str(now))
