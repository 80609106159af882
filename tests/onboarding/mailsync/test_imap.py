"""The IMAP commands against the lab's real Dovecot."""

from __future__ import annotations

from lab import Lab, LabUser
from onboarding.mailsync import Endpoint
from onboarding.mailsync.imap import ImapSession


def test_session_login_list_and_examine_on_dovecot(lab: Lab, lab_user: LabUser) -> None:
    """On the lab's Dovecot a session logs in, sees UIDPLUS, LITERAL+ and MULTIAPPEND, lists folders
    with special-use flags and separator, examines INBOX and reads the namespace."""
    ep = Endpoint(lab.destination.host, lab.destination.imap_port, "none", lab_user.email,
                  lab_user.destination_password)  # fmt: skip
    with ImapSession(ep, "destination").open() as s:
        assert {"UIDPLUS", "LITERAL+", "MULTIAPPEND"} <= s.capabilities
        names = {e.name: e for e in s.list_folders()}
        assert "\\Sent" in names["Sent"].flags and names["Sent"].delimiter == "."
        info = s.select("INBOX", readonly=True)
        assert info.uidvalidity > 0 and info.uidnext >= 1
        assert s.namespace() == ("", ".")
