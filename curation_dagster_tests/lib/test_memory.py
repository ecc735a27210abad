"""release_freed_memory hands a freed heap back to the system on glibc (this machine's libc)."""

import gc

from curation_dagster.lib.memory import release_freed_memory, resident_gib


def test_freed_heap_pages_leave_the_resident_set_only_after_a_release():
    release_freed_memory()
    before = resident_gib()
    # 100,000 buffers of 4 KB: malloc'd from glibc's heap (above pymalloc's 512 bytes, below the mmap
    # threshold); every 50th kept alive, so the freed pages sit between live ones and are not given back
    junk = [bytes(4000) + bytes([i % 256]) for i in range(100_000)]
    grown = resident_gib()
    assert grown - before > 0.3
    keep = junk[::50]
    del junk
    gc.collect()
    assert resident_gib() - before > 0.3  # freed, yet still resident: what a long `curation run` piles up
    assert release_freed_memory() is True  # glibc on Linux
    assert resident_gib() - before < 0.1
    assert len(keep) == 2_000


def test_per_run_caches_are_emptied_between_runs():
    from functools import lru_cache

    from curation_dagster.lib.memory import per_run_cache, release_freed_memory
    from curation_dagster.lib.sampling import prompt_keys

    calls = []

    @per_run_cache
    @lru_cache(maxsize=None)
    def square(x):
        calls.append(x)
        return x * x

    assert [square(3), square(3)] == [9, 9] and calls == [3]
    release_freed_memory()
    assert square(3) == 9 and calls == [3, 3]
    # the sampler's prompt keys are such a cache: the same key before and after, none kept after
    import pandas as pd

    from curation_dagster.lib import sampling

    df = pd.DataFrame({"instruction": ["Write to  Ann!", "write to ann"], "input_message": [None, ""]})
    before = prompt_keys(df)
    assert before[0] == before[1] and sampling._prompt_key.cache_info().currsize >= 1
    release_freed_memory()
    assert sampling._prompt_key.cache_info().currsize == 0 and prompt_keys(df) == before
