"""Render a self-contained dovecot.conf for a lab server (pure; no I/O).

The two lab Dovecots differ on purpose, like real servers do:

* **source** (the customer's old provider): hierarchy separator ``/``, provider-style and
  localized special-use folders (``Sent Items``, ``Gesendet``, ``[Gmail]/Sent Mail``), and a
  master passdb so ``user@domain*admin`` with the master password logs in as any user.
* **destination** (the hosted mailboxes): Dovecot's default separator ``.``, standard
  special-use folders created at first login, and the quota plugin with per-user limits
  from userdb extra fields.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

__all__ = [
    "MAIL_GID",
    "MAIL_UID",
    "SASL_SOCKET",
    "DovecotLayout",
    "oauth_key_dir",
    "render_auth_dict_conf",
    "render_auth_master_conf",
    "render_dovecot_conf",
    "render_oauth2_conf",
]

# Dovecot refuses mail access as uid 0; the Debian "mail" account (uid/gid 8) owns mail.
MAIL_UID = 8
MAIL_GID = 8

Role = Literal["source", "destination"]

# name -> SPECIAL-USE flag (RFC 6154); the source declares many providers' names.
SOURCE_SPECIAL_USE: dict[str, str] = {
    "Drafts": r"\Drafts",
    "Sent": r"\Sent",
    "Trash": r"\Trash",
    "Junk": r"\Junk",
    "Archive": r"\Archive",
    "Sent Items": r"\Sent",
    "Deleted Items": r"\Trash",
    "Junk E-mail": r"\Junk",
    "Gesendet": r"\Sent",
    "Entwürfe": r"\Drafts",
    "Papierkorb": r"\Trash",
    "[Gmail]/Sent Mail": r"\Sent",
    "[Gmail]/Drafts": r"\Drafts",
    "[Gmail]/Trash": r"\Trash",
    "[Gmail]/Spam": r"\Junk",
    "[Gmail]/All Mail": r"\All",
    "[Gmail]/Starred": r"\Flagged",
    "[Gmail]/Important": r"\Important",
}
DESTINATION_SPECIAL_USE: dict[str, str] = {
    "Drafts": r"\Drafts",
    "Sent": r"\Sent",
    "Trash": r"\Trash",
    "Junk": r"\Junk",
    "Archive": r"\Archive",
}
SEPARATOR: dict[Role, str] = {"source": "/", "destination": "."}
# The destination's SASL socket for Postfix, in its base_dir (Dovecot's auth-client protocol).
SASL_SOCKET = "auth-submission"


@dataclass(frozen=True)
class DovecotLayout:
    """Where one Dovecot keeps its files."""

    role: Role
    conf: Path
    base_dir: Path  # sockets and master.pid; short path (unix socket length limit)
    state_dir: Path
    log: Path
    accounts_dir: Path  # per-user passdb/userdb JSON records (lab._accounts)
    auth_dict_conf: Path
    has_masters: bool  # master users (source only), records in accounts_dir/master
    mail_root: Path  # <mail_root>/<domain>/<localpart>/Maildir

    @property
    def auth_master_conf(self) -> Path:
        """The master passdb's dict settings (:func:`render_auth_master_conf`)."""
        return self.auth_dict_conf.with_name("auth-master.conf")

    def home(self, email: str) -> Path:
        local, _, domain = email.lower().partition("@")
        return self.mail_root / domain / local

    def maildir(self, email: str) -> Path:
        return self.home(email) / "Maildir"


def _mailboxes(role: Role) -> str:
    names = SOURCE_SPECIAL_USE if role == "source" else DESTINATION_SPECIAL_USE
    auto = "" if role == "source" else "    auto = subscribe\n"
    return "".join(
        f'  mailbox "{name}" {{\n    special_use = {flag}\n{auto}  }}\n'
        for name, flag in names.items()
    )


def render_auth_dict_conf(layout: DovecotLayout) -> str:
    """The dict passdb/userdb settings: one JSON file per user, re-read at every login."""
    return f"""uri = fs:posix:prefix={layout.accounts_dir}/
password_key = passdb/%u
user_key = userdb/%u
iterate_disable = yes
default_pass_scheme = PLAIN
"""


def oauth_key_dir(layout: DovecotLayout) -> Path:
    """The source's JWT validation keys, ``<dir>/<azp>/<ALG>/<kid>`` (the lab identity
    provider writes its signing key there; see :func:`render_oauth2_conf`)."""
    return layout.accounts_dir.parent / "oauth-keys"


def render_oauth2_conf(layout: DovecotLayout) -> str:
    """The oauth2 passdb settings of the source: tokens validated locally (Dovecot 2.3.11+).

    ``mailbox_scope`` is the lab identity provider's claim naming who the token may open
    (the user, or ``*@domain`` for an app-only Microsoft token); ``%Ld`` compares its
    domain with the login's, so an app of one tenant opens no mailbox of another.
    Expired, not-yet-valid or badly signed tokens fail like the providers' (XOAUTH2: a
    base64 JSON ``{"status":"401",...}`` challenge, then NO).
    """
    return f"""introspection_mode = local
local_validation_key_dict = fs:posix:prefix={oauth_key_dir(layout)}/
username_attribute = mailbox_scope
username_format = %Ld
"""


def render_auth_master_conf(layout: DovecotLayout) -> str:
    """The master passdb: ``master/<name>`` is the master user ``<email>*<name>`` logs in
    as; a dict record, so a master user added by a test works at the very next login."""
    return f"""uri = fs:posix:prefix={layout.accounts_dir}/
password_key = master/%u
iterate_disable = yes
default_pass_scheme = PLAIN
"""


def render_auth_deny_conf(layout: DovecotLayout) -> str:
    """The deny passdb: ``deny/<service>/<user>`` refuses that user for that service only
    (``deny/smtp/ann@acme.test``: SMTP AUTH disabled for the mailbox, IMAP still works)."""
    return f"""uri = fs:posix:prefix={layout.accounts_dir}/
password_key = deny/%s/%u
iterate_disable = yes
"""


def render_dovecot_conf(
    layout: DovecotLayout, *, imap_port: int, lmtp_port: int, host: str = "127.0.0.1"
) -> str:
    """Return the complete dovecot.conf text for ``layout``."""
    role = layout.role
    plugins = "quota" if role == "destination" else ""
    master_passdb = ""
    if layout.has_masters:
        master_passdb = f"""passdb {{
  driver = dict
  args = {layout.auth_master_conf}
  master = yes
}}
"""
    deny_passdb = ""
    mechanisms = "plain login"
    if role == "source":  # OAuth2 first: its passdb answers only XOAUTH2 / OAUTHBEARER
        mechanisms = "plain login xoauth2 oauthbearer"
        master_passdb += f"""passdb {{
  driver = oauth2
  mechanisms = xoauth2 oauthbearer
  args = {layout.conf.with_name("dovecot-oauth2.conf.ext")}
}}
"""
    if role == "destination":
        deny_passdb = f"""passdb {{
  driver = dict
  args = {layout.auth_dict_conf.with_name("auth-deny.conf")}
  deny = yes
}}
"""
    quota = ""
    if role == "destination":
        # The submission service (Postfix, unprivileged) authenticates users here (SASL).
        quota = (
            f"""service auth {{
  unix_listener {SASL_SOCKET} {{
    mode = 0666
  }}
}}
"""
            + """plugin {
  quota = count:User quota
  quota_rule = *:storage=0
  quota_vsizes = yes
}
protocol imap {
  mail_plugins = $mail_plugins imap_quota
}
protocol lmtp {
  lmtp_rcpt_check_quota = yes
}
"""
        )
    return f"""# Generated by the mailroute lab ({role}); rewritten at every `lab up`.
base_dir = {layout.base_dir}
state_dir = {layout.state_dir}
instance_name = mailroute-lab-{role}-{imap_port}
protocols = imap lmtp
listen = {host}
ssl = no
disable_plaintext_auth = no
auth_mechanisms = {mechanisms}
auth_verbose = yes
# Real servers delay failed logins by 2 s; the lab answers at once to keep tests fast.
auth_failure_delay = 0
auth_master_user_separator = *
log_path = {layout.log}
first_valid_uid = {MAIL_UID}
last_valid_uid = {MAIL_UID}
first_valid_gid = {MAIL_GID}
last_valid_gid = {MAIL_GID}
mail_uid = {MAIL_UID}
mail_gid = {MAIL_GID}
mail_location = maildir:~/Maildir
mail_plugins = {plugins}
mailbox_list_index = yes
mail_max_userip_connections = 200
protocol imap {{
  mail_max_userip_connections = 200
}}
{master_passdb}{deny_passdb}passdb {{
  driver = dict
  mechanisms = plain login
  args = {layout.auth_dict_conf}
}}
userdb {{
  driver = dict
  args = {layout.auth_dict_conf}
  default_fields = uid={MAIL_UID} gid={MAIL_GID} home={layout.mail_root}/%Ld/%Ln
}}
namespace inbox {{
  inbox = yes
  separator = {SEPARATOR[role]}
{_mailboxes(role)}}}
service imap-login {{
  inet_listener imap {{
    address = {host}
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
service submission-login {{
  inet_listener submission {{
    port = 0
  }}
}}
# No per-IP penalty after failed logins: every test connects from 127.0.0.1.
service anvil {{
  unix_listener anvil-auth-penalty {{
    mode = 0
  }}
}}
service lmtp {{
  inet_listener lmtp {{
    address = {host}
    port = {lmtp_port}
  }}
}}
{quota}"""
