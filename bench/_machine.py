"""The machine a benchmark ran on, printed with its figures so that they can be compared.

    from _machine import describe      # in bench/x.py, run as ``python bench/x.py``
    print(describe())

Run on its own (``python bench/_machine.py``) it prints the same description.
"""

from __future__ import annotations

import os
import platform
import sqlite3
import subprocess
import sys
from pathlib import Path


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine() or "unknown"


def usable_cpus() -> int:
    """CPUs this process may run on (what ``nproc`` prints), which a container may limit."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def memory_mib() -> tuple[int, int] | None:
    """Total and available memory in MiB, from /proc/meminfo."""
    try:
        fields = dict(
            line.split(":", 1)
            for line in Path("/proc/meminfo").read_text(encoding="utf-8").splitlines()
        )
        total = int(fields["MemTotal"].split()[0]) // 1024
        available = int(fields["MemAvailable"].split()[0]) // 1024
        return total, available
    except (OSError, KeyError, ValueError):
        return None


def source_revision() -> str:
    """The commit of the code measured, marked when the working tree has changes."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=root,
            capture_output=True,
            text=True,
            check=True,
            timeout=5,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return f"{commit} (with uncommitted changes)" if dirty else commit


def describe() -> str:
    memory = memory_mib()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg()) if hasattr(os, "getloadavg") else "n/a"
    lines = [
        f"cpu: {cpu_model()}",
        f"nproc: {usable_cpus()} (logical CPUs on the machine: {os.cpu_count()})",
        "memory: " + (f"{memory[0]} MiB total, {memory[1]} MiB available" if memory else "unknown"),
        f"load average (1, 5, 15 min) at start: {load}",
        f"os: {platform.system()} {platform.release()} ({platform.machine()})",
        f"python: {platform.python_implementation()} {platform.python_version()}",
        f"sqlite: {sqlite3.sqlite_version}",
        f"campus revision: {source_revision()}",
    ]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(describe() + "\n")
