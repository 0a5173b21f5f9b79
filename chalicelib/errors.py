"""Typed service errors; the API layer maps each to one HTTP status in one place."""

from __future__ import annotations

from typing import Any


class ServiceError(Exception):
    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, code: str | None = None, details: list[Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or []


class BadRequest(ServiceError):
    status = 400
    code = "bad_request"


class Unauthorized(ServiceError):
    status = 401
    code = "unauthorized"


class Forbidden(ServiceError):
    status = 403
    code = "forbidden"


class NotFound(ServiceError):
    status = 404
    code = "not_found"


class MethodNotAllowed(ServiceError):
    """A known path asked with a method it does not take (the local gateway and Chalice's own answer)."""

    status = 405
    code = "method_not_allowed"


class Conflict(ServiceError):
    status = 409
    code = "conflict"


class PayloadTooLarge(ServiceError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(ServiceError):
    status = 415
    code = "unsupported_media_type"


class AlreadyExists(Conflict):
    """A create found the item there already (a store's conditional put lost)."""

    code = "already_exists"


class Throttled(Exception):
    """AWS refused a request for its rate, after the client's own retries: worth trying again later.

    Not the client's fault, so no ServiceError: the API answers it as any internal failure (as before),
    and a queue record that meets it fails and is redelivered.
    """
