"""Result rows, the markdown table they make, and a description of the machine."""

from __future__ import annotations

import math
import os
import platform
import sys
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Row:
    """One measured value and the target it is judged against (`passed` None: no target)."""

    benchmark: str
    measure: str
    value: str
    target: str = ""
    passed: bool | None = None

    @property
    def verdict(self) -> str:
        if self.passed is None:
            return ""
        return "pass" if self.passed else "**FAIL**"


@dataclass
class Section:
    """What one benchmark produced: headline rows plus free-form detail lines."""

    name: str
    rows: list[Row] = field(default_factory=list)
    details: list[str] = field(default_factory=list)

    def add(self, measure: str, value: str, target: str = "", passed: bool | None = None) -> None:
        self.rows.append(Row(self.name, measure, value, target, passed))


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile (0 < fraction <= 1) of a non-empty list."""
    ordered = sorted(values)
    rank = min(max(1, math.ceil(fraction * len(ordered))), len(ordered))
    return ordered[rank - 1]


def cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> str:
    """One line: cores, CPU model, Python and OS, so results can be compared fairly."""
    return (
        f"{os.cpu_count()} cores ({len(os.sched_getaffinity(0))} usable), {cpu_model()}, "
        f"Python {platform.python_version()} ({sys.implementation.name}), "
        f"{platform.system()} {platform.release()}"
    )


def load() -> str:
    """The 1-minute load average against the core count: other work skews every timing."""
    return f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores"


def markdown(sections: list[Section], header: str) -> str:
    """The results table, then each section's details."""
    lines = [
        header,
        "",
        "| Benchmark | Measure | Value | Target | Result |",
        "|---|---|---|---|---|",
    ]
    for section in sections:
        for row in section.rows:
            lines.append(
                f"| {row.benchmark} | {row.measure} | {row.value} | {row.target} | {row.verdict} |"
            )
    for section in sections:
        if section.details:
            lines += ["", f"### {section.name}", "", *section.details]
    return "\n".join(lines) + "\n"
