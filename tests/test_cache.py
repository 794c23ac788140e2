"""The rulebase cache (policy/load/cache.py): it may make loading faster, never change a result,
never serve rules that changed, and never fail a command."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from policy.cli import app
from policy.load import cache, loader
from policy.load.loader import load_rulebase
from policy.model.errors import LoadError

from .conftest import ROOT
from .test_goldens import CASES, GOLDEN

KR_UA = ["what-if", "--exporter", "KR", "--recipient", "UA", "--item", "ML3", "--date", "2023-01-30"]


@pytest.fixture(autouse=True)
def cache_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache folder of the test's own, the cache on, the rules loaded from the repository."""
    home = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.delenv("POLICY_CACHE", raising=False)
    monkeypatch.delenv("FORCE_COLOR", raising=False)
    monkeypatch.chdir(ROOT)
    cache.use_cache(True)
    yield home / "policy"
    cache.use_cache(True)


class Builds:
    """Counts the loads that really read the files (cache misses)."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.n = 0
        real = loader.build_rulebase

        def counted(paths: list[str]):  # type: ignore[no-untyped-def]
            self.n += 1
            return real(paths)

        monkeypatch.setattr(loader, "build_rulebase", counted)


def entries(folder: Path) -> list[Path]:
    return sorted(folder.glob("rulebase-*.pickle")) if folder.is_dir() else []


def rules_copy(tmp_path: Path) -> Path:
    dst = tmp_path / "rules"
    shutil.copytree(ROOT / "rules", dst)
    return dst


def test_second_load_comes_from_the_cache_and_equals_the_first(cache_home, monkeypatch):
    builds = Builds(monkeypatch)
    first = load_rulebase(["rules"])
    assert builds.n == 1 and len(entries(cache_home)) == 1
    second = load_rulebase(["rules"])
    assert builds.n == 1, "the second load should not read the rule files"
    assert second is not first
    assert second == first  # dataclass and pydantic equality over every rule, source and span
    assert second.files == first.files and second.spans == first.spans


def test_a_changed_rule_file_is_loaded_again(cache_home, tmp_path, monkeypatch):
    rules = rules_copy(tmp_path)
    builds = Builds(monkeypatch)
    before = load_rulebase([str(rules)])
    kr = rules / "kr.yaml"
    text = kr.read_text(encoding="utf-8")
    title = next(r.title for r in before.jurisdictions["KR"].rules)
    assert text.count(title) >= 1
    kr.write_text(text.replace(title, "A title changed after caching", 1), encoding="utf-8")
    after = load_rulebase([str(rules)])
    assert builds.n == 2
    assert "A title changed after caching" in [r.title for r in after.jurisdictions["KR"].rules]
    assert after.files != before.files
    assert len(entries(cache_home)) == 1, "the stale entry is replaced, not kept beside the new one"
    load_rulebase([str(rules)])
    assert builds.n == 2


def test_an_edit_that_keeps_the_size_and_the_modification_time_is_seen(cache_home, tmp_path, monkeypatch):
    """The key hashes the files' bytes, not their stat: an edit of the same length whose mtime is put back
    (a tool restoring times, two saves within the clock's resolution) is still a miss."""
    import os

    rules = rules_copy(tmp_path)
    builds = Builds(monkeypatch)
    before = load_rulebase([str(rules)])
    kr = rules / "kr.yaml"
    st = kr.stat()
    title = next(r.title for r in before.jurisdictions["KR"].rules)
    same_length = "".join("X" if c.isalpha() else c for c in title)
    assert len(same_length) == len(title) and same_length != title
    kr.write_bytes(kr.read_bytes().replace(title.encode(), same_length.encode(), 1))
    os.utime(kr, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert kr.stat().st_size == st.st_size and kr.stat().st_mtime_ns == st.st_mtime_ns
    after = load_rulebase([str(rules)])
    assert builds.n == 2
    assert same_length in [r.title for r in after.jurisdictions["KR"].rules]


def test_the_largest_file_hashed_is_the_largest_file_loaded():
    from policy.load import yamlio

    assert cache.LARGEST == yamlio.MAX_BYTES


def test_a_hit_needs_neither_pycountry_nor_yaml(cache_home):
    """An entry holds the country table built from pycountry; a command answered from the cache takes it,
    and parses no YAML."""
    import os
    import subprocess
    import sys

    probe = (
        "import sys\n"
        "from policy.cli import app\n"
        f"code = app({KR_UA!r}, standalone_mode=False)\n"
        "print(code, 'pycountry' in sys.modules, 'yaml' in sys.modules)\n"
    )
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home.parent), "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-c", probe]
    runs = [subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True) for _ in "12"]
    assert [r.stdout.splitlines()[-1] for r in runs] == ["0 True True", "0 False False"], [
        r.stderr[-2000:] for r in runs
    ]
    assert runs[0].stdout.splitlines()[:-1] == runs[1].stdout.splitlines()[:-1], "the same report"


def test_another_pycountry_is_a_miss(monkeypatch):
    """The table in an entry was built from pycountry's data then: other data, other key."""
    from policy.model import countries

    builds = Builds(monkeypatch)
    load_rulebase(["rules"])
    assert countries.data_stamp() is not None
    monkeypatch.setattr(cache, "data_stamp", lambda: "another pycountry")
    load_rulebase(["rules"])
    assert builds.n == 2


def test_an_added_or_removed_file_is_loaded_again(tmp_path, monkeypatch):
    rules = rules_copy(tmp_path)
    builds = Builds(monkeypatch)
    base = load_rulebase([str(rules)])
    (rules / "zz.yaml").write_text((rules / "kr.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(LoadError):  # the same jurisdiction twice: an error, found by loading
        load_rulebase([str(rules)])
    (rules / "zz.yaml").unlink()
    (rules / "sub").mkdir()
    shutil.move(str(rules / "kr.yaml"), str(rules / "sub" / "kr.yaml"))
    moved = load_rulebase([str(rules)])
    assert builds.n == 3
    assert moved.jurisdictions["KR"] == base.jurisdictions["KR"]
    assert any("sub" in f for f in moved.files)


def test_a_broken_rule_file_is_reported_even_after_a_good_load(tmp_path):
    rules = rules_copy(tmp_path)
    load_rulebase([str(rules)])
    (rules / "kr.yaml").write_text("format: policy-rules/v1\njurisdiction: KR\nrules: [\n", encoding="utf-8")
    with pytest.raises(LoadError):
        load_rulebase([str(rules)])


def test_another_package_version_is_a_miss(monkeypatch):
    builds = Builds(monkeypatch)
    load_rulebase(["rules"])
    monkeypatch.setattr(cache, "__version__", "999.0")
    load_rulebase(["rules"])
    assert builds.n == 2


def test_the_working_directory_is_part_of_the_key(tmp_path, monkeypatch):
    """Files are shown relative to the working directory, so another one must not reuse an entry."""
    builds = Builds(monkeypatch)
    here = load_rulebase([str(ROOT / "rules")])
    monkeypatch.chdir(tmp_path)
    there = load_rulebase([str(ROOT / "rules")])
    assert builds.n == 2
    assert set(here.files) != set(there.files)


def test_an_unwritable_cache_folder_is_no_error(tmp_path, monkeypatch):
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be", encoding="utf-8")
    monkeypatch.setenv("XDG_CACHE_HOME", str(blocker))
    builds = Builds(monkeypatch)
    assert load_rulebase(["rules"]).jurisdictions
    assert load_rulebase(["rules"]).jurisdictions
    assert builds.n == 2
    res = _invoke(KR_UA)
    assert res.exit_code == 0, res.output


def test_no_home_folder_is_no_error(monkeypatch):
    monkeypatch.delenv("XDG_CACHE_HOME")

    def no_home() -> Path:
        raise RuntimeError("Could not determine home directory.")

    monkeypatch.setattr(Path, "home", staticmethod(no_home))
    builds = Builds(monkeypatch)
    assert load_rulebase(["rules"]).jurisdictions
    assert builds.n == 1


def test_a_cache_folder_that_cannot_be_made_is_no_error(cache_home):
    """Unwritable in a way root cannot override: the cache folder's name is taken by a file."""
    cache_home.mkdir(parents=True)
    (cache_home / "policy").write_text("not a folder", encoding="utf-8")
    assert load_rulebase(["rules"]).jurisdictions
    assert load_rulebase(["rules"]).jurisdictions
    assert (cache_home / "policy").read_text(encoding="utf-8") == "not a folder"


@pytest.mark.parametrize(
    "damage",
    [
        lambda b: b"",
        lambda b: b[: len(b) // 2],  # truncated
        lambda b: b[:-1] + bytes([b[-1] ^ 0xFF]),  # one byte of the payload flipped
        lambda b: b"\x80\x05garbage that is not a pickle",
        lambda b: b.replace(b"policy-rulebase-cache/", b"policy-rulebase-cache/9", 1),
    ],
    ids=["empty", "truncated", "flipped-byte", "garbage", "other-format"],
)
def test_a_corrupt_entry_is_ignored_and_replaced(cache_home, monkeypatch, damage):
    good = load_rulebase(["rules"])
    [entry] = entries(cache_home)
    entry.write_bytes(damage(entry.read_bytes()))
    builds = Builds(monkeypatch)
    again = load_rulebase(["rules"])
    assert builds.n == 1 and again == good
    load_rulebase(["rules"])
    assert builds.n == 1, "the damaged entry was written anew"


def test_an_entry_others_may_write_is_not_trusted(cache_home, monkeypatch):
    load_rulebase(["rules"])
    [entry] = entries(cache_home)
    entry.chmod(0o666)
    builds = Builds(monkeypatch)
    load_rulebase(["rules"])
    assert builds.n == 1


def test_entries_are_private_to_the_user(cache_home):
    load_rulebase(["rules"])
    [entry] = entries(cache_home)
    assert entry.stat().st_mode & 0o077 == 0
    assert cache_home.stat().st_mode & 0o077 == 0
    assert [p.name for p in cache_home.iterdir()] == [entry.name], "no temporary file left behind"


def test_an_entry_for_other_files_is_never_served(cache_home, tmp_path, monkeypatch):
    """Even copied under the name another key looks for, an entry holds its own key and is refused."""
    rules = rules_copy(tmp_path)
    load_rulebase(["rules"])
    [shipped_entry] = entries(cache_home)
    (rules / "kr.yaml").write_text(
        (rules / "kr.yaml").read_text(encoding="utf-8").replace("title:", "title: X", 1), encoding="utf-8"
    )
    key = cache.key_for([str(rules)])
    assert key is not None
    shutil.copy(shipped_entry, key.path(cache_home))
    assert cache.read(key, cache_home) is None


def test_policy_cache_0_and_no_cache_turn_it_off(cache_home, monkeypatch):
    monkeypatch.setenv("POLICY_CACHE", "0")
    load_rulebase(["rules"])
    assert entries(cache_home) == []
    monkeypatch.delenv("POLICY_CACHE")
    res = _invoke(["--no-cache", *KR_UA])
    assert res.exit_code == 0
    assert entries(cache_home) == []
    res = _invoke(KR_UA)  # the switch is per invocation
    assert res.exit_code == 0
    assert len(entries(cache_home)) == 1


def test_a_missing_seed_is_still_reported(monkeypatch):
    """Loading checks that each source's seed file exists; a load from the cache checks it again."""
    seeds = {s.seed for j in load_rulebase(["rules"]).jurisdictions.values() for s in j.sources if s.seed}
    assert seeds, "the shipped rules cite a seeded source"
    present = set(seeds)
    exists = lambda seed, file: seed in present  # noqa: E731
    monkeypatch.setattr(cache, "seed_exists", exists)
    monkeypatch.setattr(loader, "seed_exists", exists)
    load_rulebase(["rules"])
    present.clear()
    with pytest.raises(LoadError, match="seed"):
        load_rulebase(["rules"])


def test_unsaved_editor_buffers_are_never_answered_from_the_cache(cache_home, tmp_path, monkeypatch):
    """The editor and language server load with unsaved texts in place of the files on disk."""
    from policy.edit.editor import buffers

    rules = rules_copy(tmp_path)
    on_disk = load_rulebase([str(rules)])
    kr = rules / "kr.yaml"
    title = next(r.title for r in on_disk.jurisdictions["KR"].rules)
    unsaved = kr.read_text(encoding="utf-8").replace(title, "An unsaved title", 1)
    builds = Builds(monkeypatch)
    with buffers({str(kr): unsaved}):
        edited = load_rulebase([str(rules)])
    assert "An unsaved title" in [r.title for r in edited.jurisdictions["KR"].rules]
    assert builds.n == 1
    assert load_rulebase([str(rules)]) == on_disk
    assert builds.n == 1, "the entry for the files on disk is still there"


def test_overlays_apply_to_a_cached_rulebase_as_to_a_fresh_one(monkeypatch):
    overlay = "scenarios/what-if/kr-self-defence-exception.yaml"
    args = [*KR_UA, "--rules", "rules", "--with", overlay, "-f", "json"]
    monkeypatch.setenv("POLICY_CACHE", "0")
    fresh = _invoke(args)
    monkeypatch.delenv("POLICY_CACHE")
    _invoke([*KR_UA, "--rules", "rules"])  # fills the cache with the rules without the overlay
    builds = Builds(monkeypatch)
    cached = _invoke(args)
    assert builds.n == 0
    assert fresh.exit_code == cached.exit_code == 0
    assert cached.stdout == fresh.stdout
    plain = _invoke([*KR_UA, "--rules", "rules", "-f", "json"])
    assert plain.stdout != cached.stdout, "the overlay changes this answer, cached or not"


@pytest.mark.parametrize("name", sorted(CASES))
def test_reports_are_byte_identical_with_and_without_the_cache(monkeypatch, name):
    args = CASES[name] if CASES[name][0] == "diff" else [*CASES[name], "--rules", "rules"]
    monkeypatch.setenv("POLICY_CACHE", "0")
    fresh = _invoke(args)
    monkeypatch.delenv("POLICY_CACHE")
    cold = _invoke(args)  # fills the cache
    builds = Builds(monkeypatch)
    warm = _invoke(args)
    assert builds.n == 0, "served from the cache"
    assert fresh.exit_code == cold.exit_code == warm.exit_code == 0
    assert fresh.stdout == cold.stdout == warm.stdout
    masked = re.sub(r"(rules digest `?)[0-9a-f]{16}", r"\1<digest>", warm.stdout)
    assert masked == (GOLDEN / name).read_text(encoding="utf-8")


def test_the_scenario_suite_is_unchanged_by_the_cache(monkeypatch):
    monkeypatch.setenv("POLICY_CACHE", "0")
    fresh = _invoke(["test", "scenarios/", "-f", "json"])
    monkeypatch.delenv("POLICY_CACHE")
    _invoke(["test", "scenarios/", "-f", "json"])
    builds = Builds(monkeypatch)
    warm = _invoke(["test", "scenarios/", "-f", "json"])
    assert builds.n == 0
    assert fresh.exit_code == warm.exit_code == 0
    assert fresh.stdout == warm.stdout


def _invoke(args: list[str]):  # type: ignore[no-untyped-def]
    from typer.testing import CliRunner

    return CliRunner().invoke(app, args)


def test_an_entry_is_written_without_fsync_and_an_output_with_it(tmp_path, monkeypatch):
    """A cache entry torn by a crash fails its checksum, so it needs no fsync; a user's output does."""
    import os

    from policy.load.atomic import AtomicFile

    synced: list[int] = []
    real = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: (synced.append(fd), real(fd)))
    assert cache.write_entry(tmp_path / "entry-x.pickle", b"magic\n", "d", b"payload")
    assert synced == [] and cache.read_entry(tmp_path / "entry-x.pickle", b"magic\n", "d") == b"payload"
    out = AtomicFile(tmp_path / "out.jsonl")
    out.handle.write("{}\n")
    out.commit()
    assert len(synced) == 1 and (tmp_path / "out.jsonl").read_text() == "{}\n"
