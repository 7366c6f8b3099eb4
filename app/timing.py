"""Timing the app's runs: marks within a run, the run's server time, optional profiles.

``app.py`` calls `timer_start` first and `timer_stop` last; pages call `mark`
at the end of each phase. With ``$GRIDGIS_TIMING_LOG`` every run is logged as
a JSON line (``benchmarks/bench_app.py`` reads it); with ``$GRIDGIS_PROFILE``
(a folder) every run's cProfile stats are written there.
"""

from __future__ import annotations

import cProfile
import json
import os
import threading
import time
from pathlib import Path

import streamlit as st

from app import state

__all__ = ["mark", "timer_start", "timer_stop"]

_PROFILE = os.environ.get("GRIDGIS_PROFILE")  # a folder: each run's cProfile stats go there
_RUN = threading.local()  # this thread's run: .marks (name, wall s, CPU s), .profiler


def mark(name: str) -> None:
    """Note the time at a point of this run (listed as ``phases`` in the timing log)."""
    marks = getattr(_RUN, "marks", None)
    if marks is not None:
        marks.append((name, time.perf_counter(), time.thread_time()))


def timer_start() -> tuple[float, float]:
    """Start timing (and with ``$GRIDGIS_PROFILE``, profiling) this run."""
    _RUN.marks = []
    _RUN.profiler = cProfile.Profile() if _PROFILE else None
    if _RUN.profiler is not None:
        _RUN.profiler.enable()
    return time.perf_counter(), time.thread_time()


def timer_stop(start: tuple[float, float], *, page: str, stored: int) -> None:
    """Record the run's server time (ms) in the session, and in ``$GRIDGIS_TIMING_LOG``.

    The log (JSON lines: page, wall-clock ms, CPU ms of the script thread,
    sites stored by the run, phases) is what ``benchmarks/bench_app.py`` reads
    while it drives the app in a browser. CPU time does not grow when other
    programs share the machine; wall-clock time does.
    """
    ms = (time.perf_counter() - start[0]) * 1000.0
    cpu_ms = (time.thread_time() - start[1]) * 1000.0
    profiler, _RUN.profiler = getattr(_RUN, "profiler", None), None
    if profiler is not None:
        profiler.disable()
        name = f"{page}-{'stored' if stored else 'plain'}-{time.time_ns()}.pstats"
        profiler.dump_stats(str(Path(_PROFILE or ".") / name))
    st.session_state[state.RUN_MS] = ms
    log = os.environ.get("GRIDGIS_TIMING_LOG")
    if log:
        record = {
            "page": page,
            "project": st.session_state.get(state.PROJECT),
            "ms": round(ms, 1),
            "cpu_ms": round(cpu_ms, 1),
            "stored": stored,
            "phases": [
                [name, round((wall - start[0]) * 1000.0, 1), round((cpu - start[1]) * 1000.0, 1)]
                for name, wall, cpu in getattr(_RUN, "marks", None) or []
            ],
        }
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(json.dumps(record) + "\n")
