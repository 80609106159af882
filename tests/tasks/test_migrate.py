"""The migrate tasks' pure parts: logins per auth mode, user selection, limits, retry rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from prefect.cache_policies import NO_CACHE
from prefect.states import Completed, Failed
from pydantic import SecretStr

from onboarding.mailsync import AuthFailed, ConnectionLost, StateLocked
from tasks.migrate import (
    MailboxJob,
    MigrationError,
    build_jobs,
    build_pair,
    is_transient,
    select_users,
    source_limit_name,
    state_url,
    sync_mailbox_task,
    sync_options,
)
from validation.spec import parse_spec
from validation.users import UserCredentials, ValidatedUser


def _spec(tmp_path: Path, auth: dict[str, Any], **migration: Any) -> Any:
    data = {
        "customer": "Acme Corp",
        "reseller": "R",
        "domains": [{"name": "acme.test", "mail_servers": [{"host": "127.0.0.1"}]}],
        "users_csv": "users.csv",
        "migration": {
            "enabled": True,
            "source": {"host": "old.example", "port": 993, "tls": "implicit", "auth": auth},
            **migration,
        },
        "hosted": {"imap_host": "imap.new.example", "imap_port": 993},
        "output_dir": str(tmp_path / "runs"),
    }
    return parse_spec(data, path=tmp_path / "customer.yaml")


def _creds(email: str, source_username: str | None = None, source_pw: str | None = None) -> Any:
    return UserCredentials(
        row=2,
        email=email,
        password=SecretStr("New-pass-123"),
        source_username=source_username,
        source_password=SecretStr(source_pw) if source_pw else None,
    )


def test_master_mode_logs_in_as_user_star_admin_with_the_secret_block(tmp_path: Path) -> None:
    """Master mode: source login user*admin + the Secret block; destination: user + new pw."""
    spec = _spec(
        tmp_path, {"mode": "master", "master_user": "admin", "password_secret": "src-master"}
    )
    asked: list[str] = []

    def secret(name: str) -> str:
        asked.append(name)
        return "master-pw"

    pair = build_pair(spec, _creds("ann@acme.test"), secret=secret)
    assert asked == ["src-master"]
    assert pair.source.login == "ann@acme.test*admin"
    assert pair.source.password == "master-pw"
    assert (pair.source.host, pair.source.port, pair.source.tls) == ("old.example", 993, "implicit")
    assert pair.destination.login == "ann@acme.test"
    assert pair.destination.password == "New-pass-123"
    assert "master-pw" not in repr(pair) and "New-pass-123" not in repr(pair)


def test_user_mode_uses_the_csv_source_login_and_password(tmp_path: Path) -> None:
    """User mode: the CSV's source_username/source_password; no Secret block is read."""
    spec = _spec(tmp_path, {"mode": "user"})

    def secret(name: str) -> str:
        raise AssertionError("user mode reads no Secret block")

    pair = build_pair(spec, _creds("ann@acme.test", "ann.old", "Old-pass-1"), secret=secret)
    assert (pair.source.login, pair.source.password) == ("ann.old", "Old-pass-1")
    fallback = build_pair(spec, _creds("bob@acme.test"), secret=secret)
    assert (fallback.source.login, fallback.source.password) == ("bob@acme.test", "New-pass-123")


def test_job_key_matches_the_engine_pair_key(tmp_path: Path) -> None:
    """The flow's secret-free job names the same pair (state and lock identity) as the task's."""
    spec = _spec(tmp_path, {"mode": "user"})
    user = ValidatedUser(
        row=2, email="ann@acme.test", local_part="ann", domain="acme.test", source_username="a1"
    )
    (job,) = build_jobs(spec, [user])
    pair = build_pair(spec, _creds("ann@acme.test", "a1", "x"), secret=str)
    assert job.key == pair.key
    assert job.pair_limit.startswith("mailsync-pair-") and "@" not in job.pair_limit


def test_select_users_names_unknown_addresses() -> None:
    """--users with an address that is not in the CSV is an error naming it."""
    users = [_creds("ann@acme.test"), _creds("bob@acme.test")]
    assert [u.email for u in select_users(users, ["BOB@acme.test "])] == ["bob@acme.test"]
    assert len(select_users(users, None)) == 2
    with pytest.raises(MigrationError, match=r"zed@acme\.test not in the user list"):
        select_users(users, ["ann@acme.test", "zed@acme.test"])
    with pytest.raises(MigrationError, match="no address"):
        select_users(users, [" "])


def test_disabled_migration_is_refused(tmp_path: Path) -> None:
    """A spec with migration.enabled false cannot be migrated, with the setting to change."""
    spec = _spec(tmp_path, {"mode": "user"}, enabled=False)
    with pytest.raises(MigrationError, match=r"migration\.enabled"):
        build_jobs(spec, [])


def test_state_url_defaults_next_to_the_run_folders(tmp_path: Path) -> None:
    """Default state: sqlite in <output_dir>/<slug>/; a configured URL wins."""
    spec = _spec(tmp_path, {"mode": "user"})
    assert state_url(spec) == f"sqlite:///{tmp_path / 'runs' / 'acme-corp' / 'mailsync-state.db'}"
    pg = _spec(tmp_path, {"mode": "user"}, state_url="postgresql://db/mailsync")
    assert state_url(pg) == "postgresql://db/mailsync"


def test_byte_budget_per_pass_is_given_to_the_engine_in_bytes(tmp_path: Path) -> None:
    """migration.byte_budget_per_pass_mb (optional) becomes SyncOptions.byte_budget."""
    assert sync_options(_spec(tmp_path, {"mode": "user"}), "initial").byte_budget is None
    spec = _spec(tmp_path, {"mode": "user"}, byte_budget_per_pass_mb=3)
    assert sync_options(spec, "incremental").byte_budget == 3 * 1024 * 1024


def test_limit_names_use_only_allowed_characters() -> None:
    """GCL names may not contain / % & > <."""
    name = source_limit_name("imap.old/example&co", 993)
    assert not set(name) & set("/%&><")
    job = MailboxJob("a@x.test", "h", 1, "a@x.test", "d", 2)
    assert not set(job.pair_limit) & set("/%&><")


@pytest.mark.parametrize(
    ("error", "retry"),
    [
        (ConnectionLost("dropped"), True),
        (StateLocked("held"), True),
        (AuthFailed("bad password"), False),
        (ValueError("bug"), False),
    ],
)
def test_only_transient_errors_are_retried(error: Exception, retry: bool) -> None:
    """retry_condition_fn: network/lease errors retry, a wrong password does not."""
    state = Failed(data=error)
    assert is_transient(sync_mailbox_task, None, state) is retry  # type: ignore[arg-type]
    assert is_transient(sync_mailbox_task, None, Completed()) is False  # type: ignore[arg-type]


def test_sync_task_keeps_no_result_and_no_cache() -> None:
    """The task touching passwords persists nothing and has no cache key; its name is safe."""
    assert sync_mailbox_task.persist_result is False
    assert sync_mailbox_task.cache_policy is NO_CACHE
    assert sync_mailbox_task.task_run_name == "sync {job.mailbox}"
    assert sync_mailbox_task.retry_condition_fn is is_transient
