"""gc_paused and tune_malloc: start-up and NLP-stage process tuning, back to normal when asked."""
from __future__ import annotations

import gc

import pytest

from transforms.runtime.gcpause import gc_paused


@pytest.fixture(autouse=True)
def _restore_gc():
    was = gc.isenabled()
    yield
    (gc.enable if was else gc.disable)()


def test_gc_paused_restores_the_earlier_state():
    gc.enable()
    with gc_paused():
        assert not gc.isenabled()
        with gc_paused():  # nested: the inner block does not switch it back on early
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with gc_paused():
            raise RuntimeError("boom")
    assert gc.isenabled()
    gc.disable()
    with gc_paused():
        pass
    assert not gc.isenabled()  # it was off before: it stays off


def test_gc_paused_as_a_decorator_and_on_the_start_up_loads():
    @gc_paused()
    def inside():
        return gc.isenabled()

    gc.enable()
    assert inside() is False and gc.isenabled()
    from transforms.nlp import gazetteer

    gazetteer._place_tables.cache_clear()
    assert gazetteer.lookup_place("Kyiv").canonical and gc.isenabled()


# --- transforms.runtime.malloc ---------------------------------------------------------------------------

def _fresh_malloc(monkeypatch):
    from transforms.runtime import malloc

    monkeypatch.setattr(malloc, "_DONE", None)
    for name in ("NEWSBEAM_TUNE_MALLOC", "MALLOC_MMAP_THRESHOLD_", "MALLOC_TRIM_THRESHOLD_"):
        monkeypatch.delenv(name, raising=False)
    return malloc


def test_tune_malloc_sets_glibc_thresholds_once(monkeypatch):
    malloc = _fresh_malloc(monkeypatch)
    calls = []

    class FakeLibc:
        def mallopt(self, param, value):
            calls.append((param, value))
            return 1

    monkeypatch.setattr(malloc, "_libc", lambda: FakeLibc())
    assert malloc.tune_malloc() is True
    assert calls == [(-3, 64 * 1024 * 1024), (-1, 256 * 1024 * 1024)]
    assert malloc.tune_malloc() is True and len(calls) == 2  # once per process


@pytest.mark.parametrize("env", [{"NEWSBEAM_TUNE_MALLOC": "0"}, {"MALLOC_TRIM_THRESHOLD_": "131072"},
                                 {"MALLOC_MMAP_THRESHOLD_": "131072"}])
def test_tune_malloc_leaves_the_users_choice(monkeypatch, env):
    malloc = _fresh_malloc(monkeypatch)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    monkeypatch.setattr(malloc, "_libc", lambda: pytest.fail("must not touch the C library"))
    assert malloc.tune_malloc() is False


def test_tune_malloc_without_glibc_or_failing(monkeypatch):
    malloc = _fresh_malloc(monkeypatch)
    monkeypatch.setattr(malloc, "_libc", lambda: None)  # musl, macOS
    assert malloc.tune_malloc() is False
    malloc = _fresh_malloc(monkeypatch)

    class Refusing:
        def mallopt(self, param, value):
            return 0

    monkeypatch.setattr(malloc, "_libc", lambda: Refusing())
    assert malloc.tune_malloc() is False


def test_tune_malloc_on_this_machine_in_a_fresh_process():
    import subprocess
    import sys

    code = "from transforms.runtime.malloc import tune_malloc, _libc; print(_libc() is not None, tune_malloc())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout.split()
    assert out in (["True", "True"], ["False", "False"])  # glibc: tuned; anything else: left alone
