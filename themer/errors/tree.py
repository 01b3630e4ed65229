"""The exception tree and the shape of a catalogue entry (:class:`Code`).

The codes themselves are declared in :mod:`themer.errors.catalogue` (one class per range, in
its sibling modules); each ``Code`` registers itself when its class body runs, so
:func:`lookup` finds every declared code once the package is imported (``import themer.errors``
imports the catalogue).
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import Any, Generic, Literal, TypeVar

__all__ = [
    "DOORS",
    "BadRowsError",
    "Code",
    "Door",
    "EmptyGroupError",
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

Door = Literal["cli", "api"]
DOORS: tuple[Door, ...] = ("cli", "api")
_CODE = re.compile(r"THM\d{3}")


class ThemerError(Exception):
    """Base of every error themer raises on purpose; ``code`` is stable and greppable."""

    code = "THM000"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        chosen = type(self).code if code is None else code
        self._accept(lookup(chosen))
        self.code = chosen

    @classmethod
    def _accept(cls, entry: Code[ThemerError]) -> None:
        """Refuse a code declared for another class (or reserved): one code, one meaning."""
        if entry.reserved:
            raise ValueError(f"{entry.code} is reserved ({entry.meaning}); pick a declared code")
        owner = next(k for k in cls.__mro__ if k in _TREE)
        if entry.cls is not owner:
            raise ValueError(f"{entry.code} is declared for {entry.cls.__name__}, not "
                             f"{cls.__name__}: {entry.meaning}")

    def __reduce__(self) -> tuple[Any, ...]:
        # Pickled (Ray workers, multiprocessing) as it is: cls(message) would take the default
        return _rebuild, (type(self), self.message), self.__dict__

    @property
    def message(self) -> str:
        return str(self.args[0]) if self.args else ""

    def __str__(self) -> str:
        return f"[{self.code}] {self.message}"


def _rebuild(cls: type[ThemerError], message: str) -> ThemerError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    return error  # its code and other attributes come back with its __dict__


class InputFileError(ThemerError, ValueError):
    """An input file, row, column or option value cannot be used (THM101-THM199)."""

    code = "THM101"


class BadRowsError(InputFileError):
    """Rows failed validation in strict mode; nothing was written."""

    code = "THM102"

    def __init__(self, message: str, problems: Sequence[str] = (), *,
                 code: str | None = None) -> None:
        super().__init__(message, code=code)
        self.problems = list(problems)


class TaxonomyError(ThemerError, ValueError):
    """The taxonomy file is malformed or inconsistent (THM2xx)."""

    code = "THM200"


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


class ServiceError(ThemerError, ValueError):
    """The HTTP service refuses a request (THM6xx); ``api.errors.ApiError`` is the one raised."""

    code = "THM600"


_TREE = frozenset({ThemerError, InputFileError, BadRowsError, TaxonomyError, ModelError,
                   StatsError, EmptyGroupError, StoreError, ServiceError})

E = TypeVar("E", bound=ThemerError, covariant=True)
REGISTRY: dict[str, Code[ThemerError]] = {}  # every declared code, filled by the catalogue


class Code(Generic[E]):
    """One catalogue entry; its code is the attribute name it is given in ``Errors``."""

    __slots__ = ("api", "cli", "cls", "code", "meaning", "reserved", "status", "template")

    def __init__(self, cls: type[E], meaning: str, template: str | None = None, *,
                 cli: str | None = None, api: str | None = None, status: int | None = None,
                 reserved: bool = False) -> None:
        self.code = ""  # set by __set_name__
        self.cls = cls
        self.meaning = meaning  # one line: what the code means, for the docs and reviews
        self.template = template  # str.format fields, library terms only
        self.cli, self.api = cli, api  # how to fix it, in each door's terms
        self.status = status  # HTTP status: THM6xx only
        self.reserved = reserved  # a class default or a retired code: never raised

    @classmethod
    def class_default(cls, error: type[E]) -> Code[E]:
        """The code an error class carries by default: reserved, so every raise names one."""
        return cls(error, "class default: every raise names a specific code", reserved=True)

    def __set_name__(self, owner: type, name: str) -> None:
        if not _CODE.fullmatch(name):
            raise TypeError(f"catalogue attribute {name!r} is not a THMnnn code")
        if name in REGISTRY:
            raise TypeError(f"{name} is declared twice")
        self.code = name
        REGISTRY[name] = self

    def __repr__(self) -> str:
        return f"Code({self.code}, {self.cls.__name__}: {self.meaning})"

    @property
    def fields(self) -> frozenset[str]:
        """Names the template needs."""
        if self.template is None:
            return frozenset()
        names = (name for _, name, _, _ in string.Formatter().parse(self.template) if name)
        return frozenset(re.split(r"[.\[]", name, maxsplit=1)[0] for name in names)

    def render(self, **fields: object) -> str:
        """The message from the template; exactly the template's fields, or ``ValueError``."""
        if self.template is None:
            raise ValueError(f"{self.code} has no message template")
        if set(fields) != self.fields:
            raise ValueError(f"{self.code} needs fields {sorted(self.fields)}, "
                             f"got {sorted(fields)}")
        return self.template.format(**fields)

    def error(self, **fields: object) -> E:
        """The exception to raise: ``raise Errors.THM114.error(item=item)``."""
        return self.cls(self.render(**fields), code=self.code)

    def hint(self, door: Door) -> str | None:
        """How to fix it, in ``door``'s terms (None: the message says enough)."""
        return self.cli if door == "cli" else self.api


def lookup(code: str) -> Code[ThemerError]:
    """The catalogue entry of ``code``; ``ValueError`` if it is not declared."""
    try:
        return REGISTRY[code]
    except KeyError:
        raise ValueError(f"{code!r} is not declared in themer.errors.Errors") from None


def hint(code: str, door: Door) -> str | None:
    """How to fix error ``code`` in ``door``'s terms; None if undeclared or nothing to add."""
    entry = REGISTRY.get(code)
    return entry.hint(door) if entry is not None else None


def render(error: ThemerError, door: Door) -> str:
    """``[code] message (hint)``: the message and, when there is one, the door's hint."""
    fix = hint(error.code, door)
    return str(error) if fix is None else f"{error} ({fix})"
