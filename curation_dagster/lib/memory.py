"""Hand memory freed by one run back to the system before the next run in the same process.

`curation run` and benchmarks/scale.py run every day's job, the topic model and the pool refresh in one
process (one model load). CPython frees a step's frames and arrays, but glibc keeps the freed pages in
its heaps, so the process's resident size only grows: 2.55 GiB after 60 generated days in one process,
against about 1.1 GiB for one day. malloc_trim returns those pages; elsewhere (macOS, musl) this only
collects garbage.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
from functools import lru_cache


@lru_cache(maxsize=1)
def _malloc_trim():
    name = ctypes.util.find_library("c")
    try:
        return getattr(ctypes.CDLL(name), "malloc_trim", None) if name else None
    except OSError:
        return None


#: caches with a cache_clear() (lru_cache'd functions, tokens' counts) whose entries (texts of one run's
#: pool) must not outlive the run
_RUN_CACHES: list = []


class RunMemo(dict):
    """A dict of values worked out this run (tokens counted, languages detected, prompt keys read back),
    registered with per_run_cache so release_freed_memory empties it with the others."""

    def cache_clear(self) -> None:
        self.clear()


def per_run_cache(fn):
    """Register a cache with a cache_clear() (an lru_cache'd function, or a RunMemo such as
    lib.tokens' counts): release_freed_memory empties it, so a process that runs many jobs (`curation
    run`) does not keep one run's texts alive through it."""
    _RUN_CACHES.append(fn)
    return fn


def release_freed_memory() -> bool:
    """Empty the per-run caches, collect garbage and return the freed heap pages to the system; True
    when glibc's malloc_trim ran."""
    for fn in _RUN_CACHES:
        fn.cache_clear()
    gc.collect()
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True


def resident_gib() -> float:
    """This process's resident set now (GiB; 0.0 where /proc is missing)."""
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) / 2**20
    except OSError:
        pass
    return 0.0
