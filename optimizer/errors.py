"""Errors the library raises for bad input, with the field and the fix named."""

from __future__ import annotations

from dataclasses import dataclass, field


class CoalitionError(Exception):
    """Base class of every error the optimizer raises on purpose."""


@dataclass
class InputIssue:
    """One problem with the input: where it is and what would fix it."""

    location: str
    message: str

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class ScenarioError(CoalitionError, ValueError):
    """A scenario that cannot be run as given (unknown country, years out of order ...)."""

    def __init__(self, issues: list[InputIssue] | InputIssue | str, location: str = "scenario") -> None:
        if isinstance(issues, str):
            issues = [InputIssue(location, issues)]
        elif isinstance(issues, InputIssue):
            issues = [issues]
        self.issues: list[InputIssue] = issues
        super().__init__("; ".join(str(issue) for issue in issues))


@dataclass
class DatasetIssue:
    """A problem in one cell (or row, or file) of a dataset."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column '{self.column}'"
        return f"{where}: {self.message}"


@dataclass
class DatasetError(CoalitionError, ValueError):
    """A dataset that fails the data dictionary or a consistency check."""

    issues: list[DatasetIssue] = field(default_factory=list)

    def __post_init__(self) -> None:
        shown = "; ".join(str(issue) for issue in self.issues[:20])
        more = f" (and {len(self.issues) - 20} more)" if len(self.issues) > 20 else ""
        super().__init__(f"dataset refused: {shown}{more}")

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else "dataset refused"
