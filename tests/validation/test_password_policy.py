"""Password rules as column tests: length, character kinds, the common list, the user's name."""

from __future__ import annotations

import pandas as pd
import pytest

from validation.password_policy import (
    avoids_local_part,
    character_classes,
    common_passwords,
    is_common,
    long_enough,
    name_tokens,
)


def _s(*values: str) -> pd.Series:
    return pd.Series(list(values), dtype=object)


def test_shipped_list_is_large_and_lowercase() -> None:
    """The shipped common list has thousands of entries, compared lower-cased."""
    common = common_passwords()
    assert len(common) > 15_000
    assert {"123456", "password", "qwerty", "iloveyou"} <= common
    assert all(p == p.lower() for p in common)


def test_length_counts_characters_and_lets_empty_pass() -> None:
    """Length is in characters (not bytes); empty cells are left to the required rule."""
    assert long_enough(_s("abcdefghij", "abc", "", "ééééééééé"), 10).tolist() == [
        True,
        False,
        True,
        False,
    ]


def test_character_classes() -> None:
    """Lowercase, uppercase, digits and symbols each count once."""
    assert character_classes(_s("abc", "abcD", "abcD1", "abcD1!", "ÄÖ", "")).tolist() == [
        1,
        2,
        3,
        4,
        1,  # non-ASCII letters count as symbols: they are not A-Z
        0,
    ]


@pytest.mark.parametrize(
    ("password", "common"),
    [
        ("password", True),
        ("PASSWORD", True),
        ("Password123!", True),
        ("Sunshine2024!", True),
        ("dragon", True),
        ("abc123", True),  # listed verbatim
        ("Tr7!kd9Lqw", False),
        ("xyz99", False),  # stem "xyz" is too short to count
    ],
)
def test_common_passwords(password: str, common: bool) -> None:
    """A listed password, or a listed word of 4+ letters plus digits/symbols, is common."""
    assert bool(is_common(_s(password)).iloc[0]) is common


def test_name_tokens() -> None:
    """The whole local part (3+) and its 4+ character parts must not be in the password."""
    assert name_tokens("jane.doe") == ("jane.doe", "jane")
    assert name_tokens("al") == ()
    assert name_tokens("bob") == ("bob",)
    assert name_tokens("Mary-Ann_Smith") == ("mary-ann_smith", "mary", "smith")


def test_avoids_local_part() -> None:
    """Containment is case-insensitive; empty cells pass."""
    result = avoids_local_part(
        _s("xxJANExx9!", "Tr7!kd9Lqw", "", "bob12345!B"),
        _s("jane.doe", "jane.doe", "jane", "bob"),
    )
    assert result.tolist() == [False, True, True, False]
