"""The dry run: folder map with counts and sizes, too-big messages listed, nothing written."""

from __future__ import annotations

from collections.abc import Callable

from support.mail import connect, fill, make_message, snapshot

from lab import Lab, LabUsers
from onboarding.mailsync import MailboxPair, SyncOptions, plan


def test_plan_lists_map_counts_and_skips_and_writes_nothing(
    lab: Lab, lab_users: LabUsers, pair_for: Callable[..., MailboxPair]
) -> None:
    """A dry-run plan gives each folder's destination, count and the messages too big for the
    destination, notes folders it would create and excluded ones with the reason, and changes
    nothing on either server."""
    user = lab_users.new(max_message_bytes=50_000)
    with connect(lab.source.host, lab.source.imap_port, user.email, user.source_password) as c:
        fill(c, {"INBOX": 6, "Projects/2024": 4, "Deleted Items": 2})
        c.append("INBOX", make_message(99, size=80_000))
        src_before = snapshot(c)
    with connect(
        lab.destination.host, lab.destination.imap_port, user.email, user.destination_password
    ) as c:
        dst_folders_before = sorted(f[2] for f in c.list_folders())
        dst_before = snapshot(c)

    p = plan(pair_for(user), SyncOptions(exclude_trash_and_junk=True))

    by = {f.source: f for f in p.folders}
    assert by["INBOX"].messages == 7 and by["INBOX"].too_big == 1
    assert by["INBOX"].too_big_bytes > 50_000
    assert by["Projects/2024"].destination == "Projects.2024" and by["Projects/2024"].messages == 4
    assert any("will be created" in n for n in by["Projects/2024"].notes)
    assert not any("will be created" in n for n in by["INBOX"].notes)
    assert any("will be skipped" in n for n in by["INBOX"].notes)
    assert by["Deleted Items"].action == "exclude"
    assert "exclude_trash_and_junk" in by["Deleted Items"].reason
    assert p.messages == 11 and p.bytes > 80_000 and not p.errors
    with connect(
        lab.destination.host, lab.destination.imap_port, user.email, user.destination_password
    ) as c:
        assert sorted(f[2] for f in c.list_folders()) == dst_folders_before  # no CREATE
        assert snapshot(c) == dst_before
    with connect(lab.source.host, lab.source.imap_port, user.email, user.source_password) as c:
        assert snapshot(c) == src_before
