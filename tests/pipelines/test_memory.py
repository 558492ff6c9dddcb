"""Memory a step freed goes back to the system before the night's next step."""

import gc
import os

from benchmarks.measure import rss_mb
from pipelines.lib.memory import release_freed_memory


def _rss_mb() -> float:
    return rss_mb(os.getpid())


def test_memory_freed_between_survivors_goes_back_to_the_system():
    # 300 MB of 1 kB objects, one in fifty kept: the free space lies between survivors, where the C heap keeps it
    objects = [bytes(1000) + index.to_bytes(4, "little") for index in range(300_000)]
    survivors = objects[::50]
    del objects
    gc.collect()
    held = _rss_mb()
    release_freed_memory()
    assert held - _rss_mb() > 150
    assert len(survivors) == 6_000


def test_what_survives_is_frozen_so_the_next_collection_looks_only_at_what_came_since():
    gc.unfreeze()
    long_lived = [[index] for index in range(100_000)]
    release_freed_memory()
    assert gc.get_freeze_count() >= len(long_lived)
    step_garbage = []
    step_garbage.append(step_garbage)  # a cycle: only the collector frees it
    del step_garbage
    assert gc.collect() >= 1
