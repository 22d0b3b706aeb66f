"""Hand memory freed at a stage boundary back to the operating system.

pandas' Arrow-backed text and pyarrow's readers allocate from pyarrow's memory pool
(mimalloc in the wheels), which keeps freed pages for reuse; glibc's ``malloc`` keeps freed
heap too. Reading and validating a 36M-line log left 2.3 GiB of such pages in the process
(RSS 8.57 -> 6.25 GiB after releasing them, measured at 1M customers; bench/RESULTS.md,
issue 19), and every later stage's peak sat on top of them.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _malloc_trim():  # pragma: no cover - depends on the C library
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        return getattr(libc, "malloc_trim", None)
    except OSError:
        return None


def release_unused() -> None:
    """Return the unused pages of pyarrow's pool and of the C heap to the OS (best effort)."""
    try:
        import pyarrow as pa

        pa.default_memory_pool().release_unused()
    except Exception:  # pragma: no cover - an allocator without the call  # noqa: BLE001
        pass
    trim = _malloc_trim()
    if trim is not None:
        trim(0)
