"""The folder map (I7) on literal LIST data: total, deterministic, special-use aware."""

from __future__ import annotations

import random

from onboarding.mailsync.folders import Namespace, build_folder_map
from onboarding.mailsync.imap import ListEntry
from onboarding.mailsync.models import FolderPlan

SRC_NS = Namespace("", "/")
DST_NS = Namespace("", ".")
DST = [
    ListEntry("INBOX", ("\\HasNoChildren",), "."),
    ListEntry("Sent", ("\\HasNoChildren", "\\Sent"), "."),
    ListEntry("Drafts", ("\\Drafts",), "."),
    ListEntry("Trash", ("\\Trash",), "."),
    ListEntry("Junk", ("\\Junk",), "."),
    ListEntry("Archive", ("\\Archive",), "."),
]


def _e(name: str, *flags: str, delim: str = "/") -> ListEntry:
    return ListEntry(name, flags, delim)


def _by_source(plans: tuple[FolderPlan, ...]) -> dict[str, FolderPlan]:
    return {p.source: p for p in plans}


def test_separator_translation_and_inbox() -> None:
    """Source folders get the destination's separator; INBOX in any case is INBOX, with its children
    under it; every folder is copied."""
    plans = _by_source(
        build_folder_map(
            [_e("INBOX"), _e("inbox/Lists"), _e("Projects"), _e("Projects/2024/Q1")],
            SRC_NS,
            DST,
            DST_NS,
        )
    )
    assert plans["INBOX"].destination == "INBOX"
    assert plans["inbox/Lists"].destination == "INBOX.Lists"
    assert plans["Projects/2024/Q1"].destination == "Projects.2024.Q1"
    assert all(p.action == "copy" for p in plans.values())


def test_namespace_prefix_translated_courier_style() -> None:
    """Courier keeps folders under ``INBOX.``; the destination has no prefix."""
    src = [_e("INBOX", delim="."), _e("INBOX.Sent", delim="."), _e("INBOX.Work.Q1", delim=".")]
    plans = _by_source(build_folder_map(src, Namespace("INBOX.", "."), DST, DST_NS))
    assert plans["INBOX.Sent"].destination == "Sent"
    assert plans["INBOX.Sent"].special_use == "\\Sent"
    assert plans["INBOX.Work.Q1"].destination == "Work.Q1"


def test_special_use_by_attribute_before_name() -> None:
    """``Sent Items`` carries \\Sent, so it (not the plain ``Sent``) feeds the destination Sent;
    the plain one would merge into it, which is only allowed when configured: an error."""
    src = [_e("Sent"), _e("Sent Items", "\\Sent"), _e("Deleted Items", "\\Trash")]
    plans = _by_source(build_folder_map(src, SRC_NS, DST, DST_NS))
    assert plans["Sent Items"].destination == "Sent"
    assert plans["Sent Items"].action == "copy"
    assert plans["Sent"].action == "error"
    assert "folder_renames" in plans["Sent"].reason
    assert plans["Deleted Items"].destination == "Trash"


def test_special_use_by_localized_and_provider_names() -> None:
    """Localized and provider names (Gesendet, Entwürfe, [Gmail]/Spam, All Mail) map to the
    destination's special folders; a \\Noselect parent is excluded with the reason; a child of a
    plain folder keeps its path."""
    src = [
        _e("Gesendet"),
        _e("Entw&APw-rfe"),
        _e("[Gmail]", "\\Noselect"),
        _e("[Gmail]/Spam"),
        _e("[Gmail]/All Mail", "\\All"),
        _e("Junk E-mail/Old"),
    ]
    plans = _by_source(build_folder_map(src, SRC_NS, DST, DST_NS))
    assert plans["Gesendet"].destination == "Sent"
    assert plans["Entw&APw-rfe"].destination == "Drafts"
    assert plans["Entw&APw-rfe"].source_display == "Entwürfe"
    assert plans["[Gmail]"].action == "exclude"
    assert "Noselect" in plans["[Gmail]"].reason
    assert plans["[Gmail]/Spam"].destination == "Junk"
    assert plans["[Gmail]/All Mail"].destination == "All Mail"
    # A subfolder of a plain folder named like a special one keeps its path.
    assert plans["Junk E-mail/Old"].destination == "Junk E-mail.Old"


def test_children_follow_their_special_parent() -> None:
    """A subfolder of a special-use folder moves with its parent (Sent Items/2019 becomes
    Sent.2019)."""
    src = [_e("Sent Items", "\\Sent"), _e("Sent Items/2019")]
    plans = _by_source(build_folder_map(src, SRC_NS, DST, DST_NS))
    assert plans["Sent Items/2019"].destination == "Sent.2019"


def test_renames_apply_to_subfolders_and_win_over_special_use() -> None:
    """A configured rename applies to the folder's subfolders too and wins over the special-use
    mapping."""
    src = [_e("Old/Projects"), _e("Old/Projects/A"), _e("Sent", "\\Sent")]
    plans = _by_source(
        build_folder_map(
            src,
            SRC_NS,
            DST,
            DST_NS,
            folder_renames={"Old/Projects": "Projects", "Sent": "Sent from old server"},
        )
    )
    assert plans["Old/Projects/A"].destination == "Projects.A"
    assert plans["Sent"].destination == "Sent from old server"


def test_configured_merge_is_allowed() -> None:
    """Two folders renamed to the same destination by configuration are both copied into it, not an
    error."""
    src = [_e("A"), _e("B")]
    plans = _by_source(
        build_folder_map(src, SRC_NS, DST, DST_NS, folder_renames={"A": "Both", "B": "Both"})
    )
    assert plans["A"].destination == plans["B"].destination == "Both"
    assert {plans["A"].action, plans["B"].action} == {"copy"}


def test_exclusions_with_reasons() -> None:
    """An excluded folder and its subfolders are excluded with a reason naming the exclusion, its
    siblings are copied; exclude_trash_and_junk drops Trash and Junk folders and their children,
    saying why."""
    src = [
        _e("INBOX"),
        _e("Archive/2019"),
        _e("Archive/2019/Q1"),
        _e("Archive/2020"),
        _e("Deleted Items", "\\Trash"),
        _e("Deleted Items/Sub"),
        _e("Spam"),
    ]
    plans = _by_source(
        build_folder_map(
            src, SRC_NS, DST, DST_NS, exclude_trash_and_junk=True, exclude_folders=("Archive/2019",)
        )
    )
    assert plans["Archive/2019"].action == plans["Archive/2019/Q1"].action == "exclude"
    assert "Archive/2019" in plans["Archive/2019/Q1"].reason
    assert plans["Archive/2020"].action == "copy"
    for name in ("Deleted Items", "Deleted Items/Sub", "Spam"):
        assert plans[name].action == "exclude"
        assert "exclude_trash_and_junk" in plans[name].reason


def test_default_keeps_trash_and_junk() -> None:
    """By default Trash is copied."""
    plans = _by_source(build_folder_map([_e("Trash", "\\Trash")], SRC_NS, DST, DST_NS))
    assert plans["Trash"].action == "copy"


def test_modified_utf7_round_trip_and_separator_in_name() -> None:
    """A modified UTF-7 name is kept byte for byte and displayed decoded; a destination separator
    inside a name becomes ``_`` with a note; surrounding spaces are trimmed."""
    src = [_e("Caf&AOk-"), _e("v1.2"), _e(" padded ")]
    plans = _by_source(build_folder_map(src, SRC_NS, DST, DST_NS))
    assert plans["Caf&AOk-"].destination == "Caf&AOk-"
    assert plans["Caf&AOk-"].destination_display == "Café"
    assert plans["v1.2"].destination == "v1_2"
    assert any("separator" in n for n in plans["v1.2"].notes)
    assert plans[" padded "].destination == "padded"


def test_case_collision_is_an_error_and_existing_case_is_reused() -> None:
    """Two source folders differing only in case: the second is an error saying so; a folder
    matching an existing destination folder but for case reuses that folder's name."""
    src = [_e("Projects"), _e("projects"), _e("archive/x"), _e("ARCHIVE")]
    plans = _by_source(build_folder_map(src, SRC_NS, DST, DST_NS))
    assert plans["Projects"].action == "copy"
    assert plans["projects"].action == "error"
    assert "case" in plans["projects"].reason
    # "ARCHIVE" matches the destination's existing "Archive" by name (case-insensitive).
    assert plans["ARCHIVE"].destination == "Archive"


def test_invalid_modified_utf7_is_an_error() -> None:
    """A name that is not valid modified UTF-7 is an error naming UTF-7; the other folders are still
    copied."""
    plans = _by_source(build_folder_map([_e("a&ZZZ-"), _e("ok")], SRC_NS, DST, DST_NS))
    assert plans["a&ZZZ-"].action == "error"
    assert "UTF-7" in plans["a&ZZZ-"].reason
    assert plans["ok"].action == "copy"


def test_total_and_deterministic() -> None:
    """Every source folder appears exactly once, whatever the LIST order."""
    src = [
        _e("INBOX"),
        _e("Sent Items", "\\Sent"),
        _e("Sent"),
        _e("Projects"),
        _e("projects"),
        _e("[Gmail]", "\\Noselect"),
        _e("[Gmail]/Drafts"),
        _e("Caf&AOk-"),
        _e("Archive/2019"),
    ]
    first = build_folder_map(src, SRC_NS, DST, DST_NS, exclude_folders=("Archive/*",))
    for seed in range(5):
        shuffled = src[:]
        random.Random(seed).shuffle(shuffled)
        again = build_folder_map(
            shuffled, SRC_NS, list(reversed(DST)), DST_NS, exclude_folders=("Archive/*",)
        )
        assert again == first
    assert sorted(p.source for p in first) == sorted(e.name for e in src)
    assert all(p.reason for p in first)
