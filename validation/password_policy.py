"""The password rules of ``customer.yaml``'s ``password_policy``, as vectorised column tests.

Each function takes a column of passwords (pandas Series of str) and returns a boolean Series
that is True where the password passes, so the pandera schema in :mod:`validation.users` can
use them as named checks over 100,000 rows in well under a second. Empty passwords pass here;
the "required" rule reports them once instead of four times.

``common_passwords.txt`` is the 19,640-entry list Django ships as
``django/contrib/auth/common-passwords.txt.gz`` (BSD-3-Clause; originally Royce Williams'
list compiled from public breach corpora), copied here so nothing is downloaded at run time.
A password is "common" when, lower-cased, it is in the list, or is a listed word of 4+
characters followed only by digits and symbols (``Sunshine2024!``).
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from pathlib import Path

import pandas as pd

__all__ = [
    "CLASS_PATTERNS",
    "avoids_local_part",
    "character_classes",
    "common_passwords",
    "is_common",
    "login_safe",
    "long_enough",
    "name_tokens",
]

_LIST = Path(__file__).with_name("common_passwords.txt")

#: The four character kinds counted by ``min_character_classes``.
CLASS_PATTERNS: dict[str, str] = {
    "lowercase letters": r"[a-z]",
    "uppercase letters": r"[A-Z]",
    "digits": r"[0-9]",
    "symbols": r"[^A-Za-z0-9]",
}
_TRAILING_DIGITS_SYMBOLS = r"[\d\W_]+$"
MIN_TOKEN = 4  # shorter name fragments ("al", "li") would reject too many good passwords


@cache
def common_passwords() -> frozenset[str]:
    """Return the shipped common-password list, lower-cased."""
    text = _LIST.read_text(encoding="utf-8")
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip())


#: Characters an IMAP LOGIN / SASL PLAIN password cannot carry, or that servers rewrite:
#: C0 and C1 controls (NUL ends a SASL PLAIN field, CR LF end an IMAP command line, RFC 4616
#: section 2 and RFC 9051 section 4.3), DEL, and the invisible formatting characters SASLprep
#: prohibits or maps to nothing (RFC 4013 section 2.3 and 2.4).
_ASCII_UNSAFE = re.compile(
    "[\x00-\x1f\x7f-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2064\ufeff]"
)
#: Unicode categories refused in a non-ASCII password: controls, formatting, surrogates,
#: private use, unassigned, line and paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _login_safe(password: str) -> bool:
    if _ASCII_UNSAFE.search(password):
        return False
    if password.isascii():
        return True
    return not any(unicodedata.category(c) in _UNSAFE_CATEGORIES for c in password)


def login_safe(passwords: pd.Series) -> pd.Series:
    """True where the password can travel in an IMAP/SASL login unchanged.

    UTF-8 letters and symbols of any script are fine (``GrünerBaum-2024x`` logs in with
    AUTHENTICATE PLAIN); control and invisible formatting characters are not.
    """
    unsafe = passwords.str.contains(_ASCII_UNSAFE, regex=True)
    needs_look = ~unsafe & ~passwords.map(str.isascii).astype(bool)
    ok = ~unsafe
    for row in ok.index[needs_look]:
        ok.loc[row] = _login_safe(passwords.loc[row])
    return ok


def long_enough(passwords: pd.Series, min_length: int) -> pd.Series:
    """True where the password has at least ``min_length`` characters (or is empty)."""
    lengths = passwords.str.len()
    return (lengths >= min_length) | (lengths == 0)


def character_classes(passwords: pd.Series) -> pd.Series:
    """Return how many of the four character kinds each password uses (0-4)."""
    counts = pd.Series(0, index=passwords.index)
    for pattern in CLASS_PATTERNS.values():
        counts += passwords.str.contains(pattern, regex=True).astype(int)
    return counts


def is_common(passwords: pd.Series) -> pd.Series:
    """True where the password is on the common list, or a listed word plus digits/symbols."""
    common = common_passwords()
    lowered = passwords.str.lower()
    stem = lowered.str.replace(_TRAILING_DIGITS_SYMBOLS, "", regex=True)
    return lowered.isin(common) | ((stem.str.len() >= MIN_TOKEN) & stem.isin(common))


def name_tokens(local_part: str) -> tuple[str, ...]:
    """Return the parts of a mailbox name a password must not contain.

    ``jane.doe`` -> ``("jane.doe", "jane", "doe")`` minus parts shorter than 4 characters,
    except the whole local part, which counts from 3 characters.
    """
    lowered = local_part.lower()
    tokens = [lowered] if len(lowered) >= 3 else []
    for part in filter(None, _split_name(lowered)):
        if len(part) >= MIN_TOKEN and part not in tokens:
            tokens.append(part)
    return tuple(tokens)


def _split_name(lowered: str) -> list[str]:
    for sep in "._-+":
        lowered = lowered.replace(sep, " ")
    return lowered.split()


def avoids_local_part(passwords: pd.Series, local_parts: pd.Series) -> pd.Series:
    """True where the password contains neither the mailbox name nor a 4+ letter part of it."""
    passing = [
        not any(token in pw.lower() for token in name_tokens(lp)) if pw and lp else True
        for pw, lp in zip(passwords, local_parts, strict=True)
    ]
    return pd.Series(passing, index=passwords.index, dtype=bool)
