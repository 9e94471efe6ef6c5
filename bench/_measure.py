"""Shared by the bench workers (standard library only: it also runs in the peers' virtual environments)."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path


def peak_rss_bytes() -> int:
    """VmHWM of this process (the peak resident set size), in bytes."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    return 0


class Stages:
    """Wall time per named stage; ``report`` prints one JSON object on stdout for the parent benchmark."""

    def __init__(self, tool: str) -> None:
        self.tool = tool
        self.times: dict[str, float] = {}
        self._started = time.perf_counter()

    def run(self, name: str, fn, *args, **kwargs):  # type: ignore[no-untyped-def]
        started = time.perf_counter()
        value = fn(*args, **kwargs)
        self.times[name] = self.times.get(name, 0.0) + time.perf_counter() - started
        return value

    def report(self, **extra: object) -> None:
        payload = {"tool": self.tool, "times": self.times, "peak_rss": peak_rss_bytes(), **extra}
        json.dump(payload, sys.stdout)
        sys.stdout.write("\n")
