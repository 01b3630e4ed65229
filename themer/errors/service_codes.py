"""THM6xx: the HTTP service, raised as ``api.errors.ApiError`` with the status declared here
(see :mod:`themer.errors`)."""

from __future__ import annotations

from themer.errors.tree import Code, ServiceError

__all__ = ["ServiceCodes"]

_SRV = ServiceError


class ServiceCodes:
    """The THM6xx codes, all :class:`ServiceError`; each raisable one declares its HTTP status."""

    THM600 = Code.class_default(_SRV)
    THM601 = Code(_SRV, "the request does not validate", "{where}: {problem}", status=422)
    THM602 = Code(_SRV, "the request body is over the size limit",
                  "request body over {limit} bytes", status=413,
                  api="Send a smaller body: fewer responses per call, or split the file.")
    THM610 = Code(_SRV, "no API key", "no API key: send X-API-Key or Authorization: Bearer",
                  status=401)
    THM611 = Code(_SRV, "the API key is unknown or revoked", "unknown or revoked API key",
                  status=401)
    THM612 = Code(_SRV, "the API key's scope is below the route's",
                  "this key's scope is {scope}; the route needs {needed}", status=403)
    THM613 = Code(_SRV, "the API key's rate limit is exceeded",
                  "rate limit exceeded for this key", status=429,
                  api="Wait Retry-After seconds and send the request again.")
    THM620 = Code(_SRV, "retired: a segment filter is not NAME=VALUE (now THM161)",
                  reserved=True)
    THM621 = Code(_SRV, "a request carries more items than one call allows",
                  "{size} {what} in one call; the limit is {limit}", status=422,
                  api="Split the items over several calls.")
    THM622 = Code(_SRV, "an Idempotency-Key is reused with another body",
                  "this Idempotency-Key was used with a different body", status=422,
                  api="Send a new Idempotency-Key for a new body.")
    THM623 = Code(_SRV, "retired: no stored responses match the filters (now THM175)",
                  reserved=True)
    THM624 = Code(_SRV, "retired: stored responses mix survey types (now THM118)",
                  reserved=True)
    THM625 = Code(_SRV, "the store has no active taxonomy", "no active taxonomy in the store",
                  status=503, api="An admin stores one with PUT /v1/taxonomy.")
    THM626 = Code(_SRV, "the taxonomy sent is already the active version",
                  "this taxonomy is already the active version", status=422)
    THM627 = Code(_SRV, "no such job", "no job {job_id}", status=404)
    THM628 = Code(_SRV, "retired: an adoption query names no stored attribute (now THM142)",
                  reserved=True)
    THM629 = Code(_SRV, "a webhook names a theme or owner the active taxonomy lacks",
                  "no area of the active taxonomy has {key} '{value}' ({key}s: {known})",
                  status=422)
    THM631 = Code(_SRV, "no such (finished) discovery run", "no finished discovery run {run_id}",
                  status=404)
    THM632 = Code(_SRV, "a discovery decision names no candidate of the run",
                  "run {run_id} has no candidate '{needed}' (ids: {ids})", status=422)
    THM633 = Code(_SRV, "a discovery decision is invalid", "{problem}", status=422)
