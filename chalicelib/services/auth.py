"""API keys: high-entropy random tokens, so a plain SHA-256 is the right hash (no password stretching)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from ..domain.bounds import no_controls
from ..errors import Unauthorized
from ..store.keys import KeyStore

PREFIX = "bk_"


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_api_key(keys: KeyStore, tenant_id: str, label: str = "") -> str:
    """Make a key for a tenant; the plaintext is returned once and never stored.

    ValueError for a tenant id (1-128 characters) or label (up to 200) that is too long or holds control characters.
    """
    for what, value, low, high in (("tenant", tenant_id, 1, 128), ("label", label, 0, 200)):
        if not low <= len(value) <= high:
            raise ValueError(f"{what} must be {low}-{high} characters")
        try:
            no_controls(value)
        except ValueError as exc:
            raise ValueError(f"{what} {exc}") from None
    key = PREFIX + secrets.token_urlsafe(32)
    keys.put(hash_key(key), tenant_id, label)
    return key


@dataclass(frozen=True)
class Caller:
    """Who made a request: the key's tenant and label (the audit log's "who")."""

    tenant_id: str
    key_label: str


def authenticate(keys: KeyStore, authorization: str | None) -> str:
    """Tenant id for an `Authorization: Bearer <key>` header."""
    return identify(keys, authorization).tenant_id


def identify(keys: KeyStore, authorization: str | None) -> Caller:
    """The caller of an `Authorization: Bearer <key>` header; Unauthorized for none, or a key we do not know."""
    if not authorization:
        raise Unauthorized(
            "missing Authorization header: send 'Authorization: Bearer <api key>'", code="missing_api_key"
        )
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        raise Unauthorized("Authorization must be 'Bearer <api key>'", code="invalid_api_key")
    if len(token) > 256:
        raise Unauthorized("invalid API key", code="invalid_api_key")
    owner = keys.owner(hash_key(token))
    if owner is None:
        raise Unauthorized("invalid API key", code="invalid_api_key")
    return Caller(*owner)


def key_label(keys: KeyStore, authorization: str | None) -> str | None:
    """The label of an already authenticated request's key (`authenticate` refused anything else)."""
    _, _, token = (authorization or "").strip().partition(" ")
    return keys.label_for(hash_key(token.strip()))
