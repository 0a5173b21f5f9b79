"""Pagination cursors: opaque to clients, signed, and bound to the listing they came from.

A cursor carries a DynamoDB key out to the client and back. It is HMAC-signed together with the
listing's name and scope (batch, filter), so a cursor that was altered, made up, or taken from
another listing or batch is refused as 400 `invalid_cursor` before DynamoDB sees it; after the
signature, the key must still have exactly the listing's attributes, types and scope values.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from ..errors import BadRequest
from ..settings import Settings
from .dynamo import Wire

MAX_CURSOR_CHARS = 2048  # real cursors are ~200 characters; anything longer is refused unread
MAX_VALUE_CHARS = 1024  # DynamoDB key attributes are at most 1,024 bytes (sort key) / 2,048 (partition)
TAG_BYTES = 16  # HMAC-SHA256 truncated to 128 bits


@dataclass(frozen=True)
class KeyShape:
    """A listing's name and the exact key attributes (name -> "S" or "N") its pages stop at."""

    listing: str
    attributes: Mapping[str, str]


class InvalidCursor(BadRequest):
    def __init__(self) -> None:
        super().__init__("cursor is not one this listing returned", code="invalid_cursor")


def cursor_key(settings: Settings) -> bytes:
    """CURSOR_SECRET when set; otherwise a stable key derived from the deployment's names.

    The derived key is not a secret (anyone who knows the stage's names can compute it), so a
    deployment should set CURSOR_SECRET; even without it, a forged cursor can only name a key of
    the right shape inside the tenant's own batch and listing, which is checked after the signature.
    """
    if settings.cursor_secret:
        material = settings.cursor_secret
    else:
        material = f"batchcall-cursor|{settings.resource_prefix}|{settings.stage}|{settings.aws_account_id}"
    return hashlib.sha256(material.encode()).digest()


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class Cursors:
    def __init__(self, key: bytes) -> None:
        self._key = key

    def _tag(self, shape: KeyShape, scope: Mapping[str, str | None], payload: bytes) -> bytes:
        bound = json.dumps([shape.listing, sorted(scope.items())], separators=(",", ":")).encode()
        return hmac.new(self._key, bound + b"\n" + payload, hashlib.sha256).digest()[:TAG_BYTES]

    def encode(
        self, shape: KeyShape, scope: Mapping[str, str | None], last_key: Mapping[str, Any] | None
    ) -> str | None:
        """The next-page cursor for a LastEvaluatedKey (wire form), or None on the last page."""
        if not last_key:
            return None
        plain = {name: last_key[name][kind] for name, kind in shape.attributes.items()}
        payload = json.dumps(plain, separators=(",", ":"), sort_keys=True).encode()
        return f"{_b64(payload)}.{_b64(self._tag(shape, scope, payload))}"

    def decode(self, shape: KeyShape, scope: Mapping[str, str | None], cursor: str | None) -> Wire | None:
        """The ExclusiveStartKey a cursor stands for; InvalidCursor unless this listing and scope issued it."""
        if not cursor:
            return None
        if len(cursor) > MAX_CURSOR_CHARS or cursor.count(".") != 1:
            raise InvalidCursor()
        body, tag = cursor.split(".")
        try:
            payload, given = _unb64(body), _unb64(tag)
        except (binascii.Error, ValueError):
            raise InvalidCursor() from None
        if not hmac.compare_digest(given, self._tag(shape, scope, payload)):
            raise InvalidCursor()
        try:
            plain = json.loads(payload)
        except ValueError:
            raise InvalidCursor() from None
        return _key(shape, scope, plain)


def _key(shape: KeyShape, scope: Mapping[str, str | None], plain: Any) -> Wire:
    """Even a signed payload is checked: exactly the shape's attributes, each a bounded value of its type."""
    if not isinstance(plain, dict) or set(plain) != set(shape.attributes):
        raise InvalidCursor()
    key: Wire = {}
    for name, kind in shape.attributes.items():
        value = plain[name]
        if not isinstance(value, str) or not 0 < len(value) <= MAX_VALUE_CHARS:
            raise InvalidCursor()
        if name in scope and scope[name] != value:
            raise InvalidCursor()
        if kind == "N":
            try:
                finite = Decimal(value).is_finite()
            except InvalidOperation:
                finite = False
            if not finite:
                raise InvalidCursor()
        key[name] = {kind: value}
    return key
