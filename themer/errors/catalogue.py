"""The catalogue: every THM code themer raises, declared once (see :mod:`themer.errors`).

``Errors`` composes one class per range, each declared in its own module::

    Errors(InputCodes,      THM1xx  themer.errors.input_codes
           TaxonomyCodes,   THM2xx  themer.errors.library_codes
           ModelCodes,      THM3xx    "
           StatsCodes,      THM4xx    "
           StoreCodes,      THM5xx    "
           ServiceCodes)    THM6xx  themer.errors.service_codes

so ``Errors.THM136`` is found by inheritance, and a code declared in two ranges fails when the
second class body runs (``Code.__set_name__``).
"""

from __future__ import annotations

from collections.abc import Mapping

from themer.errors.input_codes import InputCodes
from themer.errors.library_codes import ModelCodes, StatsCodes, StoreCodes, TaxonomyCodes
from themer.errors.service_codes import ServiceCodes
from themer.errors.tree import Code, ThemerError

__all__ = ["CATALOGUE", "Errors"]


class Errors(InputCodes, TaxonomyCodes, ModelCodes, StatsCodes, StoreCodes, ServiceCodes):
    """The catalogue: ``Errors.THMnnn`` is the ``Code`` of THMnnn. Add codes, never reuse one."""

    THM000 = Code(ThemerError, "base of every themer error: catch it, never raise it",
                  reserved=True)


def _collect() -> dict[str, Code[ThemerError]]:
    found: dict[str, Code[ThemerError]] = {}
    for owner in Errors.__mro__:
        for name, entry in vars(owner).items():
            if isinstance(entry, Code):
                if entry.code != name:  # the same Code object bound twice
                    raise TypeError(f"{owner.__name__}.{name} is Errors.{entry.code}")
                found[name] = entry
    return dict(sorted(found.items()))


CATALOGUE: Mapping[str, Code[ThemerError]] = _collect()
