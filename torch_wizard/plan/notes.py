"""What a resolution collects: reasons, warnings and adjustments (strict: a UsageError)."""

from __future__ import annotations

from torch_wizard.errors import UsageError


class _Notes:
    def __init__(self, strict: bool) -> None:
        self.strict = strict
        self.reasons: list[str] = []
        self.warnings: list[str] = []
        self.adjusted: list[str] = []

    def problem(self, message: str, adjustment: str) -> None:
        """An impossible user choice: an error when strict, else replaced by the recommendation."""
        if self.strict:
            raise UsageError(message)
        self.adjusted.append(adjustment)
