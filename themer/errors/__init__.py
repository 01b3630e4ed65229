"""themer's error catalogue: every user-facing failure has one stable code with one meaning.

Exception tree (catch ``ThemerError`` to catch them all)::

    ThemerError
    ├── InputFileError (ValueError)        THM1xx  bad input file, row, column or option value
    │   └── BadRowsError                    THM102  rows that fail validation (strict mode)
    ├── TaxonomyError (ValueError)         THM2xx  malformed or inconsistent taxonomy
    ├── ModelError (RuntimeError)          THM3xx  embedding model or trained head problems
    ├── StatsError (ValueError)            THM4xx  statistics asked of impossible data
    │   └── EmptyGroupError                 THM401  NPS of zero respondents
    ├── StoreError (RuntimeError)          THM5xx  the store is unreachable or refuses a write
    └── ServiceError (ValueError)          THM6xx  the HTTP service refuses a request
        └── api.errors.ApiError                     ... with its HTTP status and headers

The catalogue is the class ``Errors``: one attribute per code, named by the code (spaCy's
``Errors.E001``; declared by range in ``input_codes``, ``library_codes`` and ``service_codes``),
giving the exception class, a one-line meaning, the message template, and a fix hint for
each door (``cli``: flags, commands, ``THEMER_*`` variables; ``api``: query parameters, body
fields, headers)::

    THM136 = Code(InputFileError, "analysis names a segment the responses have no column for",
                  "no segment column for {segments} (segments present: {available}).",
                  cli="Map it with --segment NAME=COLUMN or a mapping file's segments.")

    raise Errors.THM136.error(segments=unknown, available=present)   # InputFileError, typed
    hint("THM136", "cli")                                            # the door's fix, or None

Messages say what is wrong in library terms (the file, row, column and value); how to fix it
in one door's terms is that door's hint, so an HTTP client never reads a CLI flag. Building an
error with a code that is undeclared, reserved or declared for another class raises
``ValueError`` at once. Codes are never reused: a new meaning gets a new code, and a retired
code stays declared (reserved) so that nobody takes it again.
"""

from themer.errors.catalogue import CATALOGUE, Errors
from themer.errors.tree import (
    DOORS,
    BadRowsError,
    Code,
    Door,
    EmptyGroupError,
    InputFileError,
    ModelError,
    ServiceError,
    StatsError,
    StoreError,
    TaxonomyError,
    ThemerError,
    hint,
    lookup,
    render,
)

__all__ = [
    "CATALOGUE",
    "DOORS",
    "BadRowsError",
    "Code",
    "Door",
    "EmptyGroupError",
    "Errors",
    "InputFileError",
    "ModelError",
    "ServiceError",
    "StatsError",
    "StoreError",
    "TaxonomyError",
    "ThemerError",
    "hint",
    "lookup",
    "render",
]
