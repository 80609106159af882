"""Why a message was refused, in the engine's words, and what the operator can do (I11). Pure.

Servers word refusals differently; the response code (RFC 5530) is used first, then the text::

    NO [OVERQUOTA] Quota exceeded                        → OverQuota
    NO [LIMIT] Mail size is larger than the maximum      → TooBig
    NO [CANNOT] Keyword length too long                  → FlagRefused
    BAD Error in IMAP command APPEND: Invalid system flag → FlagRefused
"""

from __future__ import annotations

from onboarding.mailsync.wire import StatusResponse

__all__ = ["FIXES", "classify_refusal", "describe"]

FIXES = {
    "DateNotKept": "report it to the destination's operator: messages show the migration date",
    "FlagsNotKept": "nothing to do: flags were set again after APPEND",
    "OverQuota": "raise the destination mailbox quota, then re-run the pass",
    "TooBig": "raise the destination's message size limit or accept the skip; re-run after",
    "FlagRefused": "nothing to do: the message was copied without the refused keyword(s)",
    "AppendRejected": "read the server response; fix the message or the destination, re-run",
    "DuplicateOfFailed": "re-run after fixing the failure of the identical message",
    "ByteBudget": "nothing to do: the next pass continues where this one stopped",
    "FolderNotMapped": "give the folder its own destination name (folder_renames) or exclude "
    "it (exclude_folders), then re-run",
    "NoBody": "the source could not read this message: repair it there (Dovecot: doveadm "
    "force-resync), then re-run; every pass retries it",
    "PoisonMessage": "the destination breaks the connection on this message: ask its operator "
    "(server log at that time), or move the message by hand; every pass retries it",
    "HugeLiteral": "the source announced an impossible size for this message: repair it there, "
    "then re-run; every pass retries it",
    "ChangedByDestination": "the destination stored different bytes than it was sent (a filter "
    "or conversion there): ask its operator; the copy stays and is not appended again",
    "OutsideDateRange": "nothing to do: a pass without --since/--before copies it",
}


def describe(status: StatusResponse) -> str:
    """The server's answer as one line: ``NO [OVERQUOTA] Quota exceeded``."""
    code = f" [{status.code}]" if status.code else ""
    return f"{status.status}{code} {status.text}".strip()


def classify_refusal(status: StatusResponse) -> str:
    """The error class of a refused APPEND (a key of :data:`FIXES`)."""
    low = status.text.lower()
    if status.code == "OVERQUOTA" or "quota" in low:
        return "OverQuota"
    if status.code in ("TOOBIG", "LIMIT") or any(
        w in low for w in ("too big", "too large", "size")
    ):
        return "TooBig"
    if "keyword" in low or "flag" in low:
        return "FlagRefused"
    return "AppendRejected"
