"""The folder map (I7): every source folder copied, excluded with a reason, or an error.

Pure: it reads LIST/NAMESPACE data from both sides and the options, and always returns the
same map for the same inputs (source folders are processed in sorted order). Rules:

- paths are compared as decoded names joined with ``/``: the source's personal namespace
  prefix is removed, its separator split, modified UTF-7 (RFC 3501 §5.1.3) decoded;
- special-use folders (RFC 6154) are found by attribute first, then by name (provider and
  localized names); a source ``\\Sent`` goes to the destination's ``\\Sent`` folder;
- ``folder_renames`` (source path → destination path) apply to a folder and its subfolders and
  win over special-use; ``exclude_folders`` patterns and ``exclude_trash_and_junk`` exclude;
- a destination separator inside a name part becomes ``_``, surrounding spaces are removed
  (both noted); two source folders reaching the same destination name (also if they differ
  only in case) are an error unless both were renamed there on purpose.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from imapclient import imap_utf7

from onboarding.mailsync.imap import ListEntry
from onboarding.mailsync.models import FolderPlan

__all__ = ["SPECIAL_NAMES", "SPECIAL_USES", "Namespace", "build_folder_map"]

SPECIAL_USES = ("\\Sent", "\\Drafts", "\\Trash", "\\Junk", "\\Archive", "\\All", "\\Flagged")
_CANONICAL = {
    "\\Sent": "Sent",
    "\\Drafts": "Drafts",
    "\\Trash": "Trash",
    "\\Junk": "Junk",
    "\\Archive": "Archive",
    "\\All": "All Mail",
    "\\Flagged": "Flagged",
}
# Names (case-insensitive) by which clients and providers mark special folders, in order of
# preference; includes Gmail's, Outlook/Exchange's and common localized names.
SPECIAL_NAMES: Mapping[str, tuple[str, ...]] = {
    "\\Sent": (
        "sent", "sent items", "sent messages", "sent mail", "sent-mail", "[gmail]/sent mail",
        "[google mail]/sent mail", "gesendet", "gesendete objekte", "gesendete elemente",
        "envoyés", "éléments envoyés", "messages envoyés", "enviados", "elementos enviados",
        "posta inviata", "inviata", "verzonden", "verzonden items", "skickat", "skickade objekt",
        "sendt", "sendte elementer", "wysłane", "отправленные",
    ),
    "\\Drafts": (
        "drafts", "draft", "[gmail]/drafts", "[google mail]/drafts", "entwürfe", "brouillons",
        "borradores", "bozze", "concepten", "utkast", "kladder", "szkice", "черновики",
    ),
    "\\Trash": (
        "trash", "deleted items", "deleted messages", "deleted", "bin", "[gmail]/trash",
        "[gmail]/bin", "[google mail]/trash", "papierkorb", "gelöschte elemente",
        "gelöschte objekte", "corbeille", "éléments supprimés", "papelera",
        "elementos eliminados", "cestino", "posta eliminata", "prullenbak",
        "verwijderde items", "papperskorgen", "kosz", "корзина",
    ),
    "\\Junk": (
        "junk", "junk e-mail", "junk email", "junk mail", "spam", "bulk mail", "[gmail]/spam",
        "[google mail]/spam", "junk-e-mail", "spam-verdacht", "courrier indésirable",
        "indésirables", "correo no deseado", "posta indesiderata", "ongewenste e-mail",
        "skräppost", "спам",
    ),
    "\\Archive": ("archive", "archives", "archiv", "archivio", "archivo", "archief", "arkiv"),
    "\\All": ("[gmail]/all mail", "[google mail]/all mail", "all mail"),
    "\\Flagged": ("[gmail]/starred", "[google mail]/starred", "starred"),
}  # fmt: skip
_NOSELECT = frozenset({"\\NOSELECT", "\\NONEXISTENT"})


@dataclass(frozen=True)
class Namespace:
    """The personal namespace of one side (RFC 2342): ``("INBOX.", ".")`` on Courier."""

    prefix: str = ""
    delimiter: str | None = "/"


@dataclass(frozen=True)
class _Folder:
    raw: str
    parts: tuple[str, ...]
    flags: frozenset[str]

    @property
    def path(self) -> str:
        return "/".join(self.parts)


def _split(entry: ListEntry, ns: Namespace) -> tuple[str, ...]:
    """Return the decoded name parts of a LIST entry, namespace prefix removed."""
    name = entry.name
    delim = entry.delimiter or ns.delimiter
    if name.upper() == "INBOX":
        return ("INBOX",)
    if ns.prefix and name.startswith(ns.prefix) and name != ns.prefix.rstrip(delim or ""):
        name = name[len(ns.prefix) :]
    raw_parts = name.split(delim) if delim else [name]
    parts = tuple(imap_utf7.decode(p.encode("ascii")) for p in raw_parts)
    if parts and parts[0].upper() == "INBOX":
        parts = ("INBOX", *parts[1:])
    return parts


def _special_by_side(folders: Sequence[_Folder]) -> dict[str, _Folder]:
    """Map each special use to the folder serving it: attribute first, then name."""
    found: dict[str, _Folder] = {}
    for use in SPECIAL_USES:
        by_attr = [f for f in folders if use.upper() in f.flags and not f.flags & _NOSELECT]
        if by_attr:
            found[use] = by_attr[0]
            continue
        taken = {f.raw for f in found.values()}
        for name in SPECIAL_NAMES[use]:
            match = [
                f
                for f in folders
                if f.raw not in taken
                and not f.flags & _NOSELECT
                and not any(u.upper() in f.flags for u in SPECIAL_USES)
                and _bare(f.parts).casefold() == name
            ]
            if match:
                found[use] = match[0]
                break
    return found


def _bare(parts: tuple[str, ...]) -> str:
    """Path without a leading ``INBOX/`` (servers without namespaces nest folders there)."""
    if len(parts) > 1 and parts[0] == "INBOX":
        parts = parts[1:]
    return "/".join(parts)


def _encode(parts: Sequence[str], ns: Namespace) -> str:
    if list(parts) == ["INBOX"]:
        return "INBOX"
    delim = ns.delimiter or "/"
    encoded = delim.join(imap_utf7.encode(p).decode("ascii") for p in parts)
    if parts[0] == "INBOX":
        return encoded
    return ns.prefix + encoded


def _ancestors(parts: tuple[str, ...]) -> list[tuple[str, ...]]:
    """``("a","b","c")`` → ``[("a","b","c"), ("a","b"), ("a",)]`` (longest first)."""
    return [parts[:k] for k in range(len(parts), 0, -1)]


def build_folder_map(
    source: Sequence[ListEntry],
    source_ns: Namespace,
    destination: Sequence[ListEntry],
    destination_ns: Namespace,
    *,
    exclude_trash_and_junk: bool = False,
    exclude_folders: Sequence[str] = (),
    folder_renames: Mapping[str, str] | None = None,
) -> tuple[FolderPlan, ...]:
    """Return one :class:`FolderPlan` per source folder, in sorted source-name order."""
    renames = {k.strip("/"): v.strip("/") for k, v in (folder_renames or {}).items()}
    src_folders: list[_Folder] = []
    plans: dict[str, FolderPlan] = {}
    for entry in sorted(source, key=lambda e: e.name):
        flags = frozenset(f.upper() for f in entry.flags)
        try:
            parts = _split(entry, source_ns)
        except (UnicodeError, ValueError) as exc:
            plans[entry.name] = FolderPlan(
                entry.name, entry.name, None, None, "error",
                f"name is not valid modified UTF-7 (RFC 3501 §5.1.3): {exc}",
            )  # fmt: skip
            continue
        src_folders.append(_Folder(entry.name, parts, flags))
    dst_folders = []
    for entry in destination:
        try:
            dst_folders.append(
                _Folder(
                    entry.name,
                    _split(entry, destination_ns),
                    frozenset(f.upper() for f in entry.flags),
                )
            )
        except (UnicodeError, ValueError):
            continue
    src_special = _special_by_side(src_folders)
    dst_special = _special_by_side(dst_folders)
    special_of = {f.parts: use for use, f in src_special.items()}
    dst_by_fold = {f.path.casefold(): f for f in dst_folders}
    dst_delim = destination_ns.delimiter or "/"

    mapped: list[tuple[_Folder, tuple[str, ...], str | None, bool, list[str]]] = []
    for folder in src_folders:
        path = folder.path
        use = special_of.get(folder.parts)
        inherited_use = next(
            (special_of[a] for a in _ancestors(folder.parts) if a in special_of), None
        )
        if folder.flags & _NOSELECT:
            plans[folder.raw] = FolderPlan(
                folder.raw, path, None, None, "exclude",
                "container only (\\Noselect): holds no messages; its subfolders are mapped",
            )  # fmt: skip
            continue
        pattern = next(
            (
                p
                for p in exclude_folders
                for a in _ancestors(folder.parts)
                if fnmatch.fnmatchcase("/".join(a), p)
            ),
            None,
        )
        if pattern is not None:
            plans[folder.raw] = FolderPlan(
                folder.raw, path, None, None, "exclude",
                f"excluded by exclude_folders pattern {pattern!r}", special_use=use,
            )  # fmt: skip
            continue
        if exclude_trash_and_junk and inherited_use in ("\\Trash", "\\Junk"):
            plans[folder.raw] = FolderPlan(
                folder.raw, path, None, None, "exclude",
                f"excluded by exclude_trash_and_junk ({inherited_use} folder)", special_use=use,
            )  # fmt: skip
            continue
        notes: list[str] = []
        renamed = False
        target: tuple[str, ...] = folder.parts
        rename_key = next(
            ("/".join(a) for a in _ancestors(folder.parts) if "/".join(a) in renames), None
        )
        if rename_key is not None:
            depth = len(rename_key.split("/"))
            target = tuple(renames[rename_key].split("/")) + folder.parts[depth:]
            renamed = True
            notes.append(f"renamed by folder_renames {rename_key!r} → {renames[rename_key]!r}")
        else:
            anc = next((a for a in _ancestors(folder.parts) if a in special_of), None)
            if anc is not None:
                anc_use = special_of[anc]
                dst = dst_special.get(anc_use)
                base = dst.parts if dst is not None else (_CANONICAL[anc_use],)
                target = base + folder.parts[len(anc) :]
                if target != folder.parts:
                    notes.append(f"special-use {anc_use} mapped to {'/'.join(base)!r}")
        cleaned: list[str] = []
        for part in target:
            new = part.strip()
            if new != part:
                notes.append(f"spaces around {part!r} removed")
            if dst_delim in new:
                notes.append(f"{dst_delim!r} in {new!r} replaced by '_' (destination separator)")
                new = new.replace(dst_delim, "_")
            cleaned.append(new)
        if any(not p for p in cleaned):
            plans[folder.raw] = FolderPlan(
                folder.raw, path, None, None, "error",
                "a name part is empty after removing spaces",
                special_use=use, notes=tuple(notes),
            )  # fmt: skip
            continue
        existing = dst_by_fold.get("/".join(cleaned).casefold())
        if existing is not None and existing.parts != tuple(cleaned):
            notes.append(f"merged into existing destination folder {existing.path!r} (case)")
            cleaned = list(existing.parts)
        mapped.append((folder, tuple(cleaned), use, renamed, notes))

    claimed: dict[str, tuple[_Folder, tuple[str, ...], bool]] = {}
    # Renamed and special-use folders claim their names first, so a plain folder that happens
    # to share a special folder's name is the one reported (stable: sorted within each group).
    mapped.sort(key=lambda m: (0 if m[3] else 1 if m[2] else 2, m[0].raw))
    for folder, target, use, renamed, notes in mapped:
        display = "/".join(target)
        key = display.casefold()
        prior = claimed.get(key)
        if prior is not None and not (renamed and prior[2] and prior[1] == target):
            how = "the same name" if prior[1] == target else "a name differing only in case"
            plans[folder.raw] = FolderPlan(
                folder.raw, folder.path, None, display, "error",
                f"maps to {how} as source folder {prior[0].path!r}; two folders merge only "
                "when configured (add a folder_renames entry)",
                special_use=use, notes=tuple(notes),
            )  # fmt: skip
            continue
        if prior is not None:
            notes = [*notes, f"merged with {prior[0].path!r} (configured)"]
        claimed.setdefault(key, (folder, target, renamed))
        plans[folder.raw] = FolderPlan(
            folder.raw, folder.path, _encode(target, destination_ns), display, "copy",
            "special-use folder" if use else ("renamed" if renamed else "same path"),
            special_use=use, notes=tuple(notes),
        )  # fmt: skip
    return tuple(plans[k] for k in sorted(plans))
