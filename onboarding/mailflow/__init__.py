"""Mail-flow engine: does mail reach the hosted mailboxes, and can every user log in?

:mod:`.probe` sends a tagged message through the gateway and finds it over IMAP;
:mod:`.accounts` logs in as every user: the one "can this account log in" path, which
provisioning's login proof uses too. No Prefect here.
"""

from onboarding.mailflow._exceptions import MailboxFailed, MailFlowError, SendFailed
from onboarding.mailflow._imap import ImapConnect, ImapEndpoint, connect_imap
from onboarding.mailflow.accounts import (
    AccountCheck,
    Login,
    check_account,
    check_accounts,
    first_working,
)
from onboarding.mailflow.probe import (
    PROBE_HEADER,
    AliasOwner,
    ProbeMessage,
    ProbeResult,
    SmtpEndpoint,
    await_in_mailboxes,
    await_probe,
    await_probes,
    check_alias_flow,
    check_mail_flow,
    find_probe,
    find_probes,
    new_tag,
    send_probe,
)

__all__ = [
    "PROBE_HEADER",
    "AccountCheck",
    "AliasOwner",
    "ImapConnect",
    "ImapEndpoint",
    "Login",
    "MailFlowError",
    "MailboxFailed",
    "ProbeMessage",
    "ProbeResult",
    "SendFailed",
    "SmtpEndpoint",
    "await_in_mailboxes",
    "await_probe",
    "await_probes",
    "check_account",
    "check_accounts",
    "check_alias_flow",
    "check_mail_flow",
    "connect_imap",
    "find_probe",
    "find_probes",
    "first_working",
    "new_tag",
    "send_probe",
]
