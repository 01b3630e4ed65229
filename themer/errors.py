"""themer's error catalogue: every user-facing failure has a stable code and says what to do.

Exception tree (catch ``ThemerError`` to catch them all)::

    ThemerError
    ├── InputFileError (ValueError)        THM1xx  bad input file, row or column
    │   └── BadRowsError                    THM102  rows that fail validation (strict mode)
    ├── TaxonomyError (ValueError)         THM2xx  malformed or inconsistent taxonomy
    ├── ModelError (RuntimeError)          THM3xx  embedding model or trained head problems
    ├── StatsError (ValueError)            THM4xx  statistics asked of impossible data
    │   └── EmptyGroupError                 THM401  NPS of zero respondents
    └── StoreError (RuntimeError)          THM5xx  the store is unreachable or refuses a write

Codes are never reused; a new meaning gets a new code.
"""

from __future__ import annotations

__all__ = [
    "BadRowsError",
    "EmptyGroupError",
    "InputFileError",
    "ModelError",
    "StatsError",
    "StoreError",
    "TaxonomyError",
    "ThemerError",
]


class ThemerError(Exception):
    """Base of every error themer raises on purpose; ``code`` is stable and greppable."""

    code = "THM000"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


class InputFileError(ThemerError, ValueError):
    """An input file cannot be read or a column is missing (THM101, THM103-THM199)."""

    code = "THM101"


class BadRowsError(InputFileError):
    """Rows failed validation in strict mode; nothing was written."""

    code = "THM102"

    def __init__(self, message: str, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


class TaxonomyError(ThemerError, ValueError):
    """The taxonomy file is malformed or inconsistent (THM2xx)."""

    code = "THM201"


class ModelError(ThemerError, RuntimeError):
    """The embedding model or a trained head cannot be loaded or does not fit (THM3xx)."""

    code = "THM301"


class StatsError(ThemerError, ValueError):
    """A statistic was asked of data that cannot give it (THM4xx)."""

    code = "THM400"


class EmptyGroupError(StatsError):
    """NPS (or an interval) of an empty group."""

    code = "THM401"


class StoreError(ThemerError, RuntimeError):
    """The store cannot be reached or refuses a write (THM5xx)."""

    code = "THM500"
