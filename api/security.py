"""API keys: made once, stored as SHA-256, checked in constant time, with scopes.

A key reads `ck_<prefix>_<secret>`. The prefix (8 characters, not secret) finds the stored
row; the SHA-256 of the whole key is compared with `hmac.compare_digest`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from api.storage import repository

SCOPES = ("read", "submit")
KEY_PREFIX = "ck_"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key's id, name and scopes (or the anonymous loopback user)."""

    key_id: int | None
    name: str
    scopes: frozenset[str]

    @property
    def owner(self) -> str:
        """The owner label stored on jobs (scopes idempotency keys)."""
        return f"key:{self.key_id}" if self.key_id is not None else "anonymous"


ANONYMOUS = Principal(key_id=None, name="anonymous", scopes=frozenset(SCOPES))


def hash_key(key: str) -> str:
    """SHA-256 hex digest of a key."""
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def new_key() -> tuple[str, str]:
    """A fresh key and its public prefix."""
    prefix = secrets.token_hex(4)
    return f"{KEY_PREFIX}{prefix}_{secrets.token_urlsafe(32)}", prefix


def key_prefix(key: str) -> str | None:
    """The public prefix of a well-formed key, else None."""
    if not key.startswith(KEY_PREFIX):
        return None
    prefix, _, secret = key[len(KEY_PREFIX) :].partition("_")
    if len(prefix) != 8 or not secret:
        return None
    return prefix


def create_api_key(session: Session, name: str, scopes: list[str]) -> tuple[int, str]:
    """Store a new key (hashed) and return its id and the key, to be shown once."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        raise ValueError(f"scopes must be among {list(SCOPES)}, got {scopes}")
    key, prefix = new_key()
    row = repository.add_api_key(session, name, prefix, hash_key(key), scopes)
    return row.id, key


def authenticate(session: Session, presented: str) -> Principal | None:
    """The principal a presented key belongs to, or None (unknown, malformed or revoked)."""
    prefix = key_prefix(presented)
    if prefix is None or len(presented) > 200:
        return None
    digest = hash_key(presented)
    found: Principal | None = None
    for row in repository.api_keys_with_prefix(session, prefix):
        if hmac.compare_digest(digest, row.key_hash):
            found = Principal(row.id, row.name, frozenset(row.scope_set))
    return found
