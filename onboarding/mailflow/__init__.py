"""Mail-flow engine: does mail reach the hosted mailboxes, and can every user log in?

:mod:`.probe` sends a tagged message through the gateway and finds it over IMAP;
:mod:`.accounts` logs in as every user: the one "can this account log in" path, which
provisioning's login proof uses too. :mod:`.submission` sends as a user through the hosted
submission service (587, STARTTLS, AUTH) and :mod:`.client_check` proves a test account
works as a client will use it. No Prefect here.
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
from onboarding.mailflow.client_check import (
    CLIENT_CHECK_COLUMNS,
    ClientCheck,
    check_client_account,
    check_client_accounts,
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
from onboarding.mailflow.submission import SubmissionEndpoint, submit

__all__ = [
    "CLIENT_CHECK_COLUMNS",
    "PROBE_HEADER",
    "AccountCheck",
    "AliasOwner",
    "ClientCheck",
    "ImapConnect",
    "ImapEndpoint",
    "Login",
    "MailFlowError",
    "MailboxFailed",
    "ProbeMessage",
    "ProbeResult",
    "SendFailed",
    "SmtpEndpoint",
    "SubmissionEndpoint",
    "await_in_mailboxes",
    "await_probe",
    "await_probes",
    "check_account",
    "check_accounts",
    "check_alias_flow",
    "check_client_account",
    "check_client_accounts",
    "check_mail_flow",
    "connect_imap",
    "find_probe",
    "find_probes",
    "first_working",
    "new_tag",
    "send_probe",
    "submit",
]
