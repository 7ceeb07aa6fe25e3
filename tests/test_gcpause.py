"""gc_paused: the cyclic collector is off inside the block and back to its earlier state after."""
from __future__ import annotations

import gc

import pytest

from transforms.gcpause import gc_paused


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
    from transforms import gazetteer

    gazetteer._place_tables.cache_clear()
    assert gazetteer.lookup_place("Kyiv").canonical and gc.isenabled()
