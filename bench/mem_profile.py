"""Where a segml command reaches its peak memory: RSS sampled with the segml frames on the stack.

Issue 19's memory fixes came from this profile. A thread reads the process's resident set
size every ``--interval`` seconds together with the innermost segml frames of the main
thread, then prints, for each place, the highest RSS seen there (the top of the list is
where the peak is), and an RSS timeline::

    python bench/mem_profile.py -- run --transactions T.parquet --customers C.parquet \\
        --as-of 2024-12-31 --force

Everything after ``--`` is passed to the ``segml`` command line. Sampling misses
allocations that live shorter than the interval; the process's true peak
(``ru_maxrss``) is printed too. Linux only (``/proc/self/statm``).
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import threading
import time
from dataclasses import dataclass, field

_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_gib() -> float:
    """Resident set size of this process, GiB."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE / 2**30


@dataclass
class Sampler:
    """RSS samples, each with the innermost ``depth`` segml frames of the main thread."""

    interval: float = 0.02
    depth: int = 3
    samples: list[tuple[float, float, tuple[str, ...]]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _where(self, main: int) -> tuple[str, ...]:
        frame = sys._current_frames().get(main)
        out: list[str] = []
        while frame is not None and len(out) < self.depth:
            path = frame.f_code.co_filename
            if f"{os.sep}segml{os.sep}" in path:
                out.append(f"{os.path.basename(path)}:{frame.f_lineno}:{frame.f_code.co_name}")
            frame = frame.f_back
        return tuple(out)

    def start(self) -> Sampler:
        """Start sampling in a daemon thread."""
        main = threading.main_thread().ident

        def loop() -> None:
            while not self._stop.is_set():
                self.samples.append((time.perf_counter(), rss_gib(), self._where(main)))
                time.sleep(self.interval)

        threading.Thread(target=loop, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop sampling."""
        self._stop.set()

    def peaks(self, top: int = 20) -> list[tuple[float, str]]:
        """``(highest RSS, place)`` per place, highest first."""
        best: dict[str, float] = {}
        for _, rss, where in self.samples:
            key = " < ".join(where) or "(outside segml)"
            best[key] = max(best.get(key, 0.0), rss)
        return sorted(((r, k) for k, r in best.items()), reverse=True)[:top]

    def timeline(self, step: float = 3.0) -> list[tuple[float, float, str]]:
        """One ``(seconds, RSS, place)`` row every ``step`` seconds."""
        if not self.samples:
            return []
        t0, last, rows = self.samples[0][0], -step, []
        for t, rss, where in self.samples:
            if t - t0 - last >= step:
                last = t - t0
                rows.append((last, rss, " < ".join(where[:2]) or "(outside segml)"))
        return rows


def main(argv: list[str] | None = None) -> int:
    """Run ``segml ARGS`` under the sampler and print the profile to stderr."""
    argv = list(sys.argv[1:] if argv is None else argv)
    cut = argv.index("--") if "--" in argv else len(argv)
    ours, cli = argv[:cut], argv[cut + 1:]
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--interval", type=float, default=0.02, help="seconds between samples")
    ap.add_argument("--top", type=int, default=20, help="places listed")
    ap.add_argument("--step", type=float, default=3.0, help="seconds between timeline rows")
    args = ap.parse_args(ours)
    if not cli:
        ap.error("give the segml command after --, e.g. -- run --k 3")
    from segml.cli import main as segml_main

    sampler = Sampler(args.interval).start()
    try:
        rc = segml_main(cli)
    finally:
        sampler.stop()
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
        err = sys.stderr
        print(f"\npeak RSS (ru_maxrss): {peak:.2f} GiB; {len(sampler.samples):,} samples",
              file=err)
        print("highest RSS seen at each place (innermost segml frames):", file=err)
        for rss, where in sampler.peaks(args.top):
            print(f"  {rss:6.2f} GiB  {where}", file=err)
        print("timeline:", file=err)
        for t, rss, where in sampler.timeline(args.step):
            print(f"  {t:7.1f} s {rss:6.2f} GiB  {where}", file=err)
    return int(rc or 0)


if __name__ == "__main__":
    sys.exit(main())
