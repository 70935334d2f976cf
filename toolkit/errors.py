"""Domain errors: each is a problem as data (kind code, location, parameters) with the Chinese message a user
reads; input errors (the user's file or settings) and environment errors (disk, permissions, programs) apart."""
from __future__ import annotations

from typing import Any

from . import words
from .problems import Location, Problem


class ToolkitError(Exception):
    """Base of every error the toolkit reports to a user (the CLI prints it as one line)."""
    kind = "toolkit"
    family = ""              # unclassified; raise an InputError or an EnvironmentProblem instead

    def __init__(self, message: str = "", *, kind: str = "", where: Location | None = None, **params: Any):
        self.kind = kind or type(self).kind
        self.location = where or Location()
        self.params = params
        super().__init__(message or words.render(self.kind, params))

    @property
    def problem(self) -> Problem:
        return Problem(self.kind, self.family, str(self), self.location, dict(self.params))

    @property
    def guidance(self) -> str:
        """What kind of trouble this is and what to do next (modify the file, or check the machine)."""
        return words.guidance(self.family)

    def to_dict(self) -> dict[str, Any]:
        """The problem as JSON values, with the error's class for front ends that map it (e.g. to an HTTP status)."""
        return {"type": type(self).__name__, **self.problem.to_dict()}


class InputError(ToolkitError):
    """The user's file, settings or request is wrong: fixing it and running again helps."""
    kind = "input"
    family = words.INPUT


class EnvironmentProblem(ToolkitError):
    """The machine is in the way (full disk, permissions, a locked file, a missing program): the input is fine."""
    kind = "environment"
    family = words.ENVIRONMENT


class LedgerError(InputError):
    """The master ledger cannot be read or written as it is."""
    kind = "ledger"


class HeaderError(LedgerError):
    """A header row was found but some required columns are missing (renamed, deleted or merged)."""
    kind = "ledger-header-missing-columns"

    def __init__(self, message: str, row: int, missing: list[str], where: Location | None = None):
        super().__init__(message, where=where or Location(row=row), missing=list(missing))
        self.row = row
        self.missing = missing


class ConfigError(InputError):
    """The configuration file is missing, malformed or names paths that do not exist."""
    kind = "config"


class SubmissionError(InputError):
    """A unit workbook cannot be taken in at all (not a workbook, wrong template, encrypted…)."""
    kind = "submission"


class ReviewError(InputError):
    """A close-out decision (销号审核) cannot be taken as asked: the row is not pending, the opinion is missing."""
    kind = "review"


class UsageError(InputError):
    """A command or a button was asked for something that does not fit (an unknown rung, a measure not in the ledger)."""
    kind = "usage"


class SourceError(InputError):
    """A file the office may edit beside the ledger (a template, the add-in's sources, a registration) is malformed."""
    kind = "source"


class BusyError(EnvironmentProblem):
    """Another run holds the lock, or the master is open in Excel/WPS."""
    kind = "busy"


class FileAccessError(EnvironmentProblem):
    """A file or folder cannot be read or written (permissions, a full disk, a missing drive)."""
    kind = "file-access"


class MissingProgram(EnvironmentProblem):
    """A program or a system folder the operation needs is not there (LibreOffice, ms-ovba, %APPDATA%, Excel)."""
    kind = "missing-program"


class HistoryError(EnvironmentProblem):
    """The change history cannot be opened or rebuilt (damaged database, archived file missing)."""
    kind = "history"
