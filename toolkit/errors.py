"""Domain errors: each carries the Chinese message a user reads, naming where and what to fix."""
from __future__ import annotations


class ToolkitError(Exception):
    """Base of every error the toolkit reports to a user (the CLI prints it as one line)."""


class LedgerError(ToolkitError):
    """The master ledger cannot be read or written as it is."""


class HeaderError(LedgerError):
    """A header row was found but some required columns are missing (renamed, deleted or merged)."""

    def __init__(self, message: str, row: int, missing: list[str]):
        super().__init__(message)
        self.row = row
        self.missing = missing


class ConfigError(ToolkitError):
    """The configuration file is missing, malformed or names paths that do not exist."""


class SubmissionError(ToolkitError):
    """A unit workbook cannot be taken in at all (not a workbook, wrong template, encrypted…)."""


class BusyError(ToolkitError):
    """Another run holds the lock, or the master is open in Excel/WPS."""


class FileAccessError(ToolkitError):
    """A file or folder cannot be read or written (permissions, a full disk, a missing drive)."""


class HistoryError(ToolkitError):
    """The change history cannot be opened or rebuilt (damaged database, archived file missing)."""


class ReviewError(ToolkitError):
    """A close-out decision (销号审核) cannot be taken as asked: the row is not pending, the opinion is missing."""
