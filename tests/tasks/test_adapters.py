"""The adapters from spec + credentials to engine inputs: logins per auth mode, the job key,
the state URL, the byte budget, concurrency-limit names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr
from support.faultproxy import FaultProxy
from support.mail import connect, fill

from lab import Lab, LabUsers
from onboarding.controlpanel import CustomerDomain, InboundServer
from onboarding.mailsync import StateStore, sync_mailbox
from onboarding.tls import unverified_warning
from tasks.adapters import (
    MailboxJob,
    customer_domains,
    host_rate_limits,
    mailbox_jobs,
    mailbox_pair,
    source_connections,
    source_limit_name,
    state_url,
    sync_options,
)
from tasks.vault import Vault
from validation.spec import HostedService, MigrationNotConfigured, TLSMode, parse_spec
from validation.users import UserCredentials, ValidatedUser


def _spec(
    tmp_path: Path, auth: dict[str, Any], *, source: dict[str, Any] | None = None, **migration: Any
) -> Any:
    given = {"host": "old.example", "port": 993, "tls": "implicit", "auth": auth} | (source or {})
    data = {
        "customer": "Acme Corp",
        "reseller": "R",
        "domains": [{"name": "acme.test", "mail_servers": [{"host": "127.0.0.1"}]}],
        "users_csv": "users.csv",
        "migration": {
            "enabled": True,
            "source": {k: v for k, v in given.items() if v is not None},
            **migration,
        },
        "hosted": {"imap_host": "imap.new.example", "imap_port": 993},
        "output_dir": str(tmp_path / "runs"),
    }
    return parse_spec(data, path=tmp_path / "customer.yaml")


def _creds(
    email: str,
    source_username: str | None = None,
    source_pw: str | None = None,
    **server: Any,
) -> Any:
    return UserCredentials(
        row=2,
        email=email,
        password=SecretStr("New-pass-123"),
        source_username=source_username,
        source_password=SecretStr(source_pw) if source_pw else None,
        **server,
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

    pair = mailbox_pair(spec, _creds("ann@acme.test"), Vault(None, secret=secret))
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

    pair = mailbox_pair(
        spec, _creds("ann@acme.test", "ann.old", "Old-pass-1"), Vault(None, secret=secret)
    )
    assert (pair.source.login, pair.source.password) == ("ann.old", "Old-pass-1")
    fallback = mailbox_pair(spec, _creds("bob@acme.test"), Vault(None, secret=secret))
    assert (fallback.source.login, fallback.source.password) == ("bob@acme.test", "New-pass-123")


def test_job_key_matches_the_engine_pair_key(tmp_path: Path) -> None:
    """The flow's secret-free job names the same pair (state and lock identity) as the task's."""
    spec = _spec(tmp_path, {"mode": "user"})
    user = ValidatedUser(
        row=2, email="ann@acme.test", local_part="ann", domain="acme.test", source_username="a1"
    )
    (job,) = mailbox_jobs(spec, [user])
    pair = mailbox_pair(spec, _creds("ann@acme.test", "a1", "x"), Vault(None, secret=str))
    assert job.key == pair.key
    assert job.pair_limit.startswith("mailsync-pair-") and "@" not in job.pair_limit


def test_disabled_migration_is_refused(tmp_path: Path) -> None:
    """A spec with migration.enabled false cannot be migrated, with the setting to change."""
    spec = _spec(tmp_path, {"mode": "user"}, enabled=False)
    with pytest.raises(MigrationNotConfigured, match=r"migration\.enabled"):
        mailbox_jobs(spec, [])


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


def test_customer_domains_carry_name_servers_priorities_and_port(tmp_path: Path) -> None:
    """Rule: every spec domain becomes one CustomerDomain, normalised name, servers in order."""
    data = {
        "customer": "Acme Corp",
        "reseller": "R",
        "domains": [
            {
                "name": "Acme.TEST.",
                "mail_servers": [
                    {"host": "mx1.acme.test", "priority": 5},
                    {"host": "mx2.acme.test"},
                ],
                "delivery_port": 2525,
            },
            {"name": "b.test", "mail_servers": [{"host": "127.0.0.1"}]},
        ],
        "users_csv": "users.csv",
        "hosted": {"imap_host": "imap.new.example", "imap_port": 993},
    }
    spec = parse_spec(data, path=tmp_path / "customer.yaml")
    assert customer_domains(spec) == (
        CustomerDomain(
            "acme.test",
            (InboundServer("mx1.acme.test", 5), InboundServer("mx2.acme.test", 10)),
            2525,
        ),
        CustomerDomain("b.test", (InboundServer("127.0.0.1", 10),), 25),
    )


def test_a_domain_without_inbound_servers_is_a_caller_mistake() -> None:
    """Rule: the engine's input refuses what set-up cannot route (ValueError, before any I/O)."""
    with pytest.raises(ValueError, match="inbound mail server"):
        CustomerDomain("a.test", ())
    with pytest.raises(ValueError, match="delivery_port"):
        CustomerDomain("a.test", (InboundServer("mx.a.test"),), delivery_port=0)
    with pytest.raises(ValueError, match="priority"):
        InboundServer("mx.a.test", priority=70000)


def test_the_final_pass_has_no_byte_budget_and_keeps_the_specs_window(tmp_path: Path) -> None:
    """The final pass runs while delivery is held: no budget, and a run's --since/--before
    never narrows it (the spec's own window, the customer's scope, still applies)."""
    from datetime import date

    from tasks.adapters import DateWindow

    spec = _spec(tmp_path, {"mode": "user"}, byte_budget_per_pass_mb=3, since="2020-01-01")
    window = DateWindow(since=date(2025, 1, 1))
    assert sync_options(spec, "final", window=window).byte_budget is None
    assert sync_options(spec, "final", window=window).since == date(2020, 1, 1)
    assert sync_options(spec, "incremental", window=window).since == date(2025, 1, 1)
    assert sync_options(spec, "incremental").since == date(2020, 1, 1)
    with pytest.raises(ValueError, match="must be a day before"):
        DateWindow(since=date(2025, 1, 2), before=date(2025, 1, 1))


def test_a_provider_preset_fills_what_the_spec_leaves_out(tmp_path: Path) -> None:
    """``provider: google``: Gmail's host, port, TLS, connection cap, daily 2,500 MB cap
    (never in the final pass) and folder hints; every key the spec gives wins."""
    gmail = {"host": None, "port": None, "tls": None, "provider": "google"}
    spec = _spec(tmp_path, {"mode": "user"}, source=gmail, folder_renames={"[Gmail]/Spam": "Spam"})
    src = spec.migration.source
    assert (src.host, src.port, src.tls.value) == ("imap.gmail.com", 993, "implicit")
    assert source_connections(spec) == 10
    assert sync_options(spec, "initial").daily_byte_cap == 2_500 << 20
    assert sync_options(spec, "final").daily_byte_cap is None
    renames = sync_options(spec, "initial").folder_renames
    assert renames["[Gmail]/Sent Mail"] == "Sent" and renames["[Gmail]/Spam"] == "Spam"
    own = _spec(
        tmp_path,
        {"mode": "user"},
        source={"provider": "microsoft365", "host": "imap.mine.example", "connections": 3},
    )
    assert own.migration.source.host == "imap.mine.example" and source_connections(own) == 3
    assert own.migration.source.max_messages_per_second == 4.0  # imapsync's O365 preset


def test_rates_give_each_mailbox_its_bucket_and_each_host_a_shared_one(tmp_path: Path) -> None:
    """Per-mailbox rates are the pass's own; ``host_max_*`` buckets are one per actual host."""
    rates = {"max_messages_per_second": 5, "host_max_bytes_per_second": 1e6}
    spec = _spec(tmp_path, {"mode": "user"}, source=rates)
    shared = host_rate_limits(spec)
    a, b, c = (
        sync_options(spec, "initial", source=host, host_rates=shared).pacer
        for host in (("old.example", 993), ("old.example", 993), ("old2.example", 993))
    )
    assert a is not None and b is not None and c is not None
    assert a.host[1] is b.host[1] and a.host[1] is not c.host[1]
    assert a.mailbox[0] is not b.mailbox[0] and a.mailbox[0].per_second == 5
    assert sync_options(_spec(tmp_path, {"mode": "user"}), "initial").pacer is None


def test_a_users_own_source_server_routes_its_job_and_pair(tmp_path: Path) -> None:
    """The CSV's ``source_host`` / ``source_port`` pick the user's server (its own connection
    cap); the spec's TLS settings (``tls_verify: false``, warned about) apply to it too."""
    spec = _spec(tmp_path, {"mode": "user"}, source={"tls_verify": False})
    users = [
        ValidatedUser(2, "ann@acme.test", "ann", "acme.test", source_host="old2.example"),
        ValidatedUser(3, "bob@acme.test", "bob", "acme.test"),
    ]
    ann, bob = mailbox_jobs(spec, users)
    assert (ann.source_host, ann.source_port, bob.source_host) == (
        "old2.example",
        993,
        "old.example",
    )
    assert ann.source_limit != bob.source_limit
    pair = mailbox_pair(
        spec, _creds("ann@acme.test", source_host="old2.example", source_port=1993), Vault(None)
    )
    assert (pair.source.host, pair.source.port, pair.source.verify_tls) == (
        "old2.example",
        1993,
        False,
    )
    assert spec.warnings == (unverified_warning("migration.source", "old.example"),)


def test_two_users_on_two_source_servers_are_copied_from_their_own(
    tmp_path: Path, lab: Lab, lab_users: LabUsers
) -> None:
    """Lab: the spec's source is one server, a user's ``source_port`` cell another (a proxy
    on its own port); each pair connects to its user's server only and copies its mail."""
    ann, bob = lab_users.new(), lab_users.new()
    with (
        FaultProxy((lab.source.host, lab.source.imap_port)) as first,
        FaultProxy((lab.source.host, lab.source.imap_port)) as second,
    ):
        spec = _spec(
            tmp_path,
            {"mode": "user"},
            source={"host": lab.source.host, "port": first.port, "tls": "none"},
            state_url=f"sqlite:///{tmp_path / 'state.db'}",
        ).model_copy(
            update={
                "hosted": HostedService(
                    imap_host=lab.destination.host,
                    imap_port=lab.destination.imap_port,
                    imap_tls=TLSMode.NONE,
                )
            }
        )
        creds = {
            ann.email: _creds(ann.email, source_pw=ann.source_password, source_port=second.port),
            bob.email: _creds(bob.email, source_pw=bob.source_password),
        }
        for user, own, other in ((ann, second, first), (bob, first, second)):
            with connect(
                lab.source.host, lab.source.imap_port, user.email, user.source_password
            ) as c:
                total = fill(c, {"INBOX": 3})
            seen = (own.stats().connections, other.stats().connections)
            cred = creds[user.email].model_copy(
                update={"password": SecretStr(user.destination_password)}
            )
            store = StateStore(state_url(spec))
            pair = mailbox_pair(spec, cred, Vault(None))
            out = sync_mailbox(pair, sync_options(spec, "initial"), store)
            store.dispose()
            assert out.copied == total
            assert own.stats().connections > seen[0] and other.stats().connections == seen[1]
