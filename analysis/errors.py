"""The one exception family users see: a clear one-line message, never a traceback."""

from __future__ import annotations


class NeedsError(Exception):
    """Base class for every error caused by the user's input or parameters.

    The command line prints ``str(error)`` on one line and exits non-zero.
    """


class InputError(NeedsError):
    """A problem in an input file, located by file, column and row.

    Parameters
    ----------
    file : str
        The file's name (or path) as the user gave it.
    message : str
        What was found and what was expected.
    column : str, optional
        The column concerned, by name.
    row : int, optional
        The line number in the file (the header is line 1), as a spreadsheet shows it.
    """

    def __init__(self, file, message, column=None, row=None):
        self.file = str(file)
        self.column = column
        self.row = row
        self.message = message
        where = [self.file]
        if column is not None:
            where.append(f"column '{column}'")
        if row is not None:
            where.append(f"row {row}")
        super().__init__(f"{', '.join(where)}: {message}")


class ParameterError(NeedsError):
    """A bad parameter: unknown LA, a year with no data, a folder that is missing."""
