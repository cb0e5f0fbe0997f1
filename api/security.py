"""API keys: made once, stored as SHA-256, checked in constant time, with scopes.

A key reads `ck_<prefix>_<secret>`. The prefix (8 characters, not secret) finds the stored
row; the SHA-256 of the whole key is compared with `hmac.compare_digest`.

Scopes: `read` (GET routes), `submit` (solving, submitting, cancelling, deleting) and
`admin`. Jobs belong to the key that submitted them: a key reads and manages only its own
jobs (another key's job is a 404, as if it did not exist), unless it has `admin`, which
widens `read` and `submit` to every owner's jobs (it grants neither by itself, so a key
needs `admin` with `read` and/or `submit`). Without keys (loopback, auth off) the caller
is the anonymous principal, which holds every scope and so sees every job, as before.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from api.storage import repository

READ, SUBMIT, ADMIN = "read", "submit", "admin"
SCOPES = (READ, SUBMIT, ADMIN)
KEY_PREFIX = "ck_"
ANONYMOUS_OWNER = "anonymous"
OWNER_PATTERN = re.compile(r"^(?:key:[0-9]{1,18}|anonymous)$")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key's id, name and scopes (or the anonymous loopback user)."""

    key_id: int | None
    name: str
    scopes: frozenset[str]

    @property
    def owner(self) -> str:
        """The owner label stored on the jobs this caller submits (`key:<id>` or `anonymous`).

        Idempotency keys are scoped to it, and so is what a non-admin caller sees.
        """
        return owner_label(self.key_id)

    @property
    def is_admin(self) -> bool:
        """Whether this caller sees and manages every owner's jobs."""
        return ADMIN in self.scopes

    @property
    def job_owner_filter(self) -> str | None:
        """The owner whose jobs this caller may see and manage; None for all (admin)."""
        return None if self.is_admin else self.owner


def owner_label(key_id: int | None) -> str:
    """The owner label of jobs submitted with key `key_id` (None: without a key)."""
    return f"key:{key_id}" if key_id is not None else ANONYMOUS_OWNER


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


def scope_problem(scopes: list[str]) -> str | None:
    """Why a key cannot have these scopes (unknown, none, admin alone), or None when fine."""
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or not scopes:
        return f"scopes must be among {list(SCOPES)}, got {sorted(set(scopes)) or 'none'}"
    if ADMIN in scopes and not {READ, SUBMIT} & set(scopes):
        return (
            "the admin scope widens read and submit to every owner's jobs but grants neither:"
            " add read and/or submit"
        )
    return None


def create_api_key(session: Session, name: str, scopes: list[str]) -> tuple[int, str]:
    """Store a new key (hashed) and return its id and the key, to be shown once."""
    problem = scope_problem(scopes)
    if problem is not None:
        raise ValueError(problem)
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
