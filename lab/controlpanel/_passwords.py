"""Password hashes in a scheme Dovecot's passwd-file accepts (``{SSHA512}``).

``{SSHA512}`` is base64(SHA-512(password + salt) + salt), see Dovecot's "Password Schemes".
The control panel stores only this hash; the plain password lives no longer than the request.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

__all__ = ["hash_password", "verify_password"]

_PREFIX = "{SSHA512}"


def hash_password(password: str, *, salt: bytes | None = None) -> str:
    """Return ``{SSHA512}<base64>`` for ``password`` with a random 16-byte salt."""
    salt = os.urandom(16) if salt is None else salt
    digest = hashlib.sha512(password.encode("utf-8") + salt).digest()
    return _PREFIX + base64.b64encode(digest + salt).decode("ascii")


def verify_password(password: str, hashed: str) -> bool:
    """Return True if ``password`` matches a hash made by :func:`hash_password`."""
    if not hashed.startswith(_PREFIX):
        return False
    raw = base64.b64decode(hashed[len(_PREFIX) :])
    digest, salt = raw[:64], raw[64:]
    return hmac.compare_digest(hashlib.sha512(password.encode("utf-8") + salt).digest(), digest)
