"""Shared set-up for the mail-sync engine tests: lab mailbox pairs and a state store."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from support.state_stores import NewStore

from lab import Lab, LabUser
from lab.postgres import PostgresServer
from onboarding.mailsync import Endpoint, MailboxPair, StateStore


def make_pair(
    lab: Lab, user: LabUser, *, src_port: int | None = None, dst_port: int | None = None
) -> MailboxPair:
    src = Endpoint(
        lab.source.host,
        src_port or lab.source.imap_port,
        "none",
        lab.source.master_login(user.email),
        lab.source.master_password,
    )
    dst = Endpoint(
        lab.destination.host,
        dst_port or lab.destination.imap_port,
        "none",
        user.email,
        user.destination_password,
    )
    return MailboxPair(user.email, src, dst)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[StateStore]:
    st = StateStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield st
    st.dispose()


@pytest.fixture
def new_store(tmp_path: Path) -> Iterator[NewStore]:
    """``new_store()``: a new, empty SQLite state store per call, all disposed at teardown, for
    a pass that must start as if the state store before it were lost."""
    made: list[StateStore] = []

    def new() -> StateStore:
        made.append(StateStore(f"sqlite:///{tmp_path / f'new-{len(made)}.db'}"))
        return made[-1]

    yield new
    for st in made:
        st.dispose()


@pytest.fixture
def pair_for(lab: Lab) -> Callable[..., MailboxPair]:
    """``pair_for(user, src_port=None, dst_port=None)``: the lab pair for a user (master login
    on the source, the user's own login on the destination), optionally through proxies."""

    def make(
        user: LabUser, *, src_port: int | None = None, dst_port: int | None = None
    ) -> MailboxPair:
        return make_pair(lab, user, src_port=src_port, dst_port=dst_port)

    return make


@pytest.fixture
def url(pg: PostgresServer) -> str:
    """A fresh database per test, so tests never see each other's rows or leases."""
    name = f"state_{uuid.uuid4().hex[:10]}"
    pg.create_database(name)
    return pg.url(name)


@pytest.fixture(params=["sqlite", "postgres"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The state store's URL on each backend the engine supports: the contract is the same."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.db'}"
    url: str = request.getfixturevalue("url")
    return url
