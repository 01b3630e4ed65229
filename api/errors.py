"""Errors as application/problem+json (RFC 9457) with a stable ``code``.

Every body is ``{type, title, status, code, detail}``, plus ``hint`` (how to fix it in HTTP
terms, from ``themer.errors``' catalogue) when the code has one. The API's own codes (THM6xx)
are declared in that catalogue with their HTTP status::

    raise ApiError.of(Errors.THM627, job_id=job_id)        # 404, detail from the template
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from themer.errors import Code, Errors, ServiceError, StoreError, ThemerError, hint, lookup

PROBLEM = "application/problem+json"


class ApiError(ServiceError):
    """An error the API answers with: a THM6xx code and its declared status, or a library
    error's code relayed with a cleaned detail (``ApiError.relay``)."""

    def __init__(self, status: int, code: str, detail: str,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail, code=code)
        declared = lookup(code).status
        if declared is not None and declared != status:
            raise ValueError(f"{code} is declared with status {declared}, not {status}")
        self.status, self.detail, self.headers = status, detail, headers

    @classmethod
    def _accept(cls, entry: Code[ThemerError]) -> None:
        if issubclass(entry.cls, ServiceError):
            super()._accept(entry)
        elif entry.reserved:  # a library code: relayed, it keeps its own meaning
            raise ValueError(f"{entry.code} is reserved ({entry.meaning})")

    @classmethod
    def of(cls, entry: Code[ServiceError], *, headers: dict[str, str] | None = None,
           **fields: object) -> ApiError:
        """The error of a THM6xx code: its declared status, the detail from its template."""
        if entry.status is None:
            raise ValueError(f"{entry.code} has no HTTP status")
        return cls(entry.status, entry.code, entry.render(**fields), headers)

    @classmethod
    def relay(cls, error: ThemerError, detail: str, status: int = 422) -> ApiError:
        """A library error answered with its own code and a detail fit for the client."""
        return cls(status, error.code, detail)


def problem_body(status: int, code: str, detail: str, **extra: Any) -> dict[str, Any]:
    """The problem document; ``hint`` is added when the catalogue has one for the API."""
    fix = hint(code, "api")
    return {"type": f"https://themer.dev/errors/{code}", "title": _TITLES.get(status, "Error"),
            "status": status, "code": code, "detail": detail,
            **({"hint": fix} if fix is not None else {}), **extra}


def problem(status: int, code: str, detail: str, *, headers: dict[str, str] | None = None,
            **extra: Any) -> JSONResponse:
    return JSONResponse(problem_body(status, code, detail, **extra), status_code=status,
                        media_type=PROBLEM, headers=headers)


_TITLES = {400: "Bad request", 401: "Unauthorized", 403: "Forbidden", 404: "Not found",
           413: "Payload too large", 422: "Unprocessable content", 429: "Too many requests",
           503: "Service unavailable"}


# library errors that mean "nothing there" in HTTP terms; every other one is a 422
LIBRARY_STATUS = {"THM115": 404, "THM175": 404, "THM182": 404}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return problem(exc.status, exc.code, exc.detail, headers=exc.headers)

    @app.exception_handler(ServiceError)
    async def _service(_: Request, exc: ServiceError) -> JSONResponse:
        return problem(lookup(exc.code).status or 422, exc.code, exc.message)

    @app.exception_handler(StoreError)
    async def _store(_: Request, exc: StoreError) -> JSONResponse:
        return problem(503, exc.code, exc.message)

    @app.exception_handler(ThemerError)
    async def _themer(_: Request, exc: ThemerError) -> JSONResponse:
        return problem(LIBRARY_STATUS.get(exc.code, 422), exc.code, exc.message)

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        errors = [{"loc": list(e.get("loc", ())), "msg": str(e.get("msg", ""))}
                  for e in exc.errors()[:50]]
        first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
        where = ".".join(str(p) for p in first["loc"])
        entry = Errors.THM601
        return problem(entry.status or 422, entry.code,
                       entry.render(where=where, problem=first["msg"]), errors=errors)

    @app.exception_handler(HTTPException)
    async def _http(_: Request, exc: HTTPException) -> JSONResponse:
        return problem(exc.status_code, f"HTTP{exc.status_code}", str(exc.detail),
                       headers=getattr(exc, "headers", None))
