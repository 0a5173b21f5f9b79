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


class TryAgain(ServiceError):
    """Not the caller's fault and not lasting: the API answers 503 `try_again` with `Retry-After`, never a 500.

    A queue record that meets it fails and is redelivered, as with any exception (no worker catches a
    ServiceError as a verdict on its input except by its own subclass)."""

    status = 503
    code = "try_again"
    retry_after_seconds = 1


class Throttled(TryAgain):
    """AWS refused a request for its rate, after the client's own retries (chalicelib/aws.py raises it, as a
    botocore ClientError too, so every `except ClientError` sees what it saw before)."""


class Contended(TryAgain):
    """A transaction kept meeting others on the same items (TransactionConflict) after the store's own tries."""
