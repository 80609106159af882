"""Fresh, unique lab users for one test or one demo run, removed again afterwards."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from lab._lab import Lab

__all__ = ["LabUser", "LabUsers", "unique_domain"]


def unique_domain(prefix: str = "t") -> str:
    """A domain under ``.test`` (RFC 6761) that no other test uses, e.g. ``t3f9a1c2e.test``."""
    return f"{prefix}{secrets.token_hex(4)}.test"


@dataclass(frozen=True)
class LabUser:
    """One mailbox that exists on the source and (usually) on the destination."""

    email: str
    source_password: str = field(repr=False)
    destination_password: str = field(repr=False)

    @property
    def domain(self) -> str:
        return self.email.rsplit("@", 1)[1]


class LabUsers:
    """Factory of fresh users on one lab; all share :attr:`domain` unless told otherwise."""

    def __init__(self, lab: Lab, domain: str | None = None) -> None:
        self.lab = lab
        self.domain = domain or unique_domain()
        self.created: list[LabUser] = []

    def new(
        self,
        *,
        domain: str | None = None,
        source: bool = True,
        destination: bool = True,
        quota_bytes: int | None = None,
        max_message_bytes: int | None = None,
    ) -> LabUser:
        """Create a user on the source and/or the destination with random passwords."""
        email = f"u{secrets.token_hex(5)}@{domain or self.domain}"
        user = LabUser(
            email, "src-" + secrets.token_urlsafe(12), "dst-" + secrets.token_urlsafe(12)
        )
        if source:
            self.lab.source.add_user(email, user.source_password)
        if destination:
            self.lab.destination.set_account(
                email,
                user.destination_password,
                quota_bytes=quota_bytes,
                max_message_bytes=max_message_bytes,
            )
        self.created.append(user)
        return user

    def cleanup(self) -> None:
        """Remove every created login and its mail on both servers."""
        for user in self.created:
            self.lab.source.remove_user(user.email)
            self.lab.destination.remove_account(user.email)
            self.lab.source.wipe_mail(user.email)
            self.lab.destination.wipe_mail(user.email)
        self.created.clear()
