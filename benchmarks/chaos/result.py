"""What one chaos scenario reports: whether its invariants held, its figures, and what broke."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ScenarioResult:
    """One scenario's outcome. `figures` are the numbers the report prints (faults injected, records
    tried, kills, items lost, duplicates, seconds to converge, ...); `problems` are the invariants
    that did not hold, each one line. A scenario passes when it has no problems."""

    name: str
    figures: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def passed(self) -> bool:
        return not self.problems

    def check(self, condition: bool, problem: str) -> None:
        """Record `problem` unless `condition` holds."""
        if not condition:
            self.problems.append(problem)
