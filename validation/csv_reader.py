"""Read the customer's user CSV into a table, or say in one sentence why the file is unusable.

This module owns everything about the *file* (existence, encoding, delimiter, spreadsheet
formats, header spellings, row shape); :mod:`validation.users` owns the rules for the *values*.
Rows are indexed by the number a person sees in a spreadsheet: the header is row 1, so the
first user is row 2. Windows line endings and quoted fields with commas or line breaks are
ordinary CSV and read fine.

Error messages never quote cell contents: a cell may be a password.
"""

from __future__ import annotations

import csv
import functools
import io
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from onboarding import OnboardingError
from validation._files import FileRefused, inside_folder, read_bounded
from validation.addresses import PLAIN_ADDRESS

if TYPE_CHECKING:
    from validation.spec import OnboardingSpec

__all__ = [
    "CSV_LIMITS",
    "KNOWN_COLUMNS",
    "CSVLimits",
    "UserListError",
    "UserTable",
    "canonical_column",
    "read_user_table",
    "user_csv_path",
]

SAVE_AS_UTF8 = (
    'in Excel use File > Save As > "CSV UTF-8 (Comma delimited)"; in LibreOffice use '
    'Save As > "Text CSV", tick "Edit filter settings" and choose "Unicode (UTF-8)" with '
    "comma as the field delimiter"
)

#: Header spellings people use, reduced to lowercase letters and digits, per canonical column.
KNOWN_COLUMNS: dict[str, frozenset[str]] = {
    "email": frozenset(
        {"email", "emailaddress", "emailaddr", "mail", "mailaddress", "useremail", "address"}
    ),
    "password": frozenset({"password", "passwd", "pass", "pwd", "newpassword", "userpassword"}),
    "source_username": frozenset(
        {"sourceusername", "sourceuser", "sourcelogin", "oldusername", "olduser", "oldlogin"}
    ),
    "source_password": frozenset(
        {"sourcepassword", "sourcepasswd", "sourcepass", "oldpassword", "oldpasswd"}
    ),
    "aliases": frozenset(
        {"aliases", "alias", "emailaliases", "emailalias", "otheraddresses", "aliasaddresses"}
    ),
}
_ALIASES = {alias: name for name, aliases in KNOWN_COLUMNS.items() for alias in aliases}
_WHAT = "the user CSV (users_csv in customer.yaml, or --users PATH)"
_DELIMITERS = {";": "semicolon", "\t": "tab", "|": "pipe"}


class UserListError(OnboardingError):
    """Raised when the user CSV cannot be read as a table (missing, wrong format or encoding)."""

    def __init__(self, message: str, *, path: Path, line: int | None = None) -> None:
        super().__init__(message)
        self.path = path
        self.line = line

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        # Keyword-only context would be lost by Exception's default pickling.
        return functools.partial(type(self), path=self.path, line=self.line), (str(self),)


@dataclass(frozen=True, eq=False)
class UserTable:
    """The CSV as text cells: ``frame`` has canonical column names and spreadsheet row index."""

    path: Path
    frame: pd.DataFrame
    headers: dict[str, str]  # column name in ``frame`` -> header as written in the file
    rows: int  # data rows, blank rows excluded
    blank_rows: int = 0


@dataclass(frozen=True)
class CSVLimits:
    """Size limits of a user CSV, set for the largest customer the product takes.

    100,000 users at up to ~330 bytes a row fit in 32 MiB; one row (address, password, source
    login and password, aliases) is far below 4,096 characters. The limits bound the reader's
    time and memory whatever file it is given.
    """

    max_users: int = 100_000
    max_bytes: int = 32 << 20
    max_line_chars: int = 4096

    @property
    def max_lines(self) -> int:
        """Users, the header and room for blank lines."""
        return self.max_users + 1 + max(self.max_users // 10, 10)


#: The limits every reader uses unless a test passes smaller ones.
CSV_LIMITS = CSVLimits()


def canonical_column(header: str) -> str | None:
    """Return the canonical name for a header spelling (``E-mail`` -> ``email``), else None."""
    return _ALIASES.get(re.sub(r"[^a-z0-9]", "", header.lower()))


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def _refuse_binary(data: bytes, path: Path) -> None:
    """Raise for spreadsheets renamed to .csv and UTF-16/32 text, detected by their bytes."""
    if data.startswith(b"PK\x03\x04"):
        head = data[:2048]
        if b"opendocument.spreadsheet" in head:
            kind, ext = "an OpenDocument spreadsheet", ".ods"
        elif b"xl/" in head or b"[Content_Types].xml" in head:
            kind, ext = "an Excel workbook", ".xlsx"
        else:
            kind, ext = "a ZIP archive (likely a spreadsheet)", ".xlsx/.ods"
        raise UserListError(
            f"{path}: is {kind} ({ext}) renamed to .csv, not a CSV file; open it in the "
            f"spreadsheet program and save it as CSV: {SAVE_AS_UTF8}",
            path=path,
            line=None,
        )
    if data.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        raise UserListError(
            f"{path}: is an old Excel workbook (.xls) renamed to .csv, not a CSV file; "
            f"open it in Excel and save it as CSV: {SAVE_AS_UTF8}",
            path=path,
        )
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff"))
    # Without a BOM, UTF-16 text of ASCII letters has a NUL in every other byte.
    sample = data[:200]
    if not utf16 and len(sample) >= 4 and sample.count(b"\x00") >= len(sample) // 3:
        utf16 = True
    if utf16:
        raise UserListError(
            f'{path}: line 1 onwards is UTF-16 encoded text (Excel\'s "Unicode Text"), not '
            f"UTF-8; re-save it as UTF-8: {SAVE_AS_UTF8}",
            path=path,
            line=1,
        )


def _decode(data: bytes, path: Path) -> str:
    """Return the text of a UTF-8 file (a BOM is fine); name the first line that is not UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        col = exc.start - (data.rfind(b"\n", 0, exc.start) + 1) + 1
        raise UserListError(
            f"{path}: line {line} (byte {col} of the line) is not UTF-8; the file looks "
            f"Latin-1/Windows-1252 encoded. Re-save it as UTF-8: {SAVE_AS_UTF8}",
            path=path,
            line=line,
        ) from None


def _refuse_other_delimiter(header_line: str, path: Path) -> None:
    commas = header_line.count(",")
    for sep, name in _DELIMITERS.items():
        if header_line.count(sep) > commas:
            raise UserListError(
                f"{path}: line 1 is {name}-delimited (columns separated by {sep!r}), but the "
                f"file must be comma-delimited; re-save it with comma as the delimiter: "
                f"{SAVE_AS_UTF8}",
                path=path,
                line=1,
            )


def _map_headers(raw: list[str], path: Path) -> list[str]:
    """Return frame column names: canonical where known, the header as written otherwise."""
    names: list[str] = []
    seen: dict[str, str] = {}
    for i, header in enumerate(raw):
        header = header.strip()
        canon = canonical_column(header) if header else None
        if canon is None:
            names.append(header or f"(unnamed column {_column_letter(i)})")
            continue
        if canon in seen:
            raise UserListError(
                f"{path}: line 1 has two {canon} columns ({seen[canon]!r} and {header!r}); "
                "delete one of them",
                path=path,
                line=1,
            )
        seen[canon] = header
        names.append(canon)
    return names


def _refuse_long_lines(text: str, path: Path, limits: CSVLimits) -> None:
    """Raise for a file with too many lines or a line longer than one user's row can be."""
    lines = text.count("\n") + (not text.endswith("\n"))
    if lines > limits.max_lines:
        raise UserListError(
            f"{path}: has {lines:,} lines, over the limit of {limits.max_lines:,} (a user list "
            f"holds at most {limits.max_users:,} users, one per line); check that this is the "
            "user list",
            path=path,
        )
    if len(text) <= limits.max_line_chars:
        return
    start, line = 0, 1
    while True:
        end = text.find("\n", start)
        stop = len(text) if end < 0 else end
        if stop - start > limits.max_line_chars:
            raise UserListError(
                f"{path}: line {line} is longer than {limits.max_line_chars:,} characters, the "
                "limit for one user's row; check that this is the user list (one user per line)",
                path=path,
                line=line,
            )
        if end < 0:
            return
        start, line = end + 1, line + 1


def _csv_error(exc: csv.Error, line: int, path: Path) -> UserListError:
    """Translate the csv module's error on the record starting at ``line`` (never its text)."""
    reason = str(exc)
    if "unexpected end of data" in reason:
        what = (
            'a double quote (") opens a value that is never closed; remove the stray quote, '
            "or close it at the end of the value"
        )
    elif "field larger than field limit" in reason:
        # Lines are at most max_line_chars long, so only a quoted value spanning lines gets here.
        what = (
            'a double quote (") opens a value that is not closed on that line (it runs on '
            "for thousands of lines); no value in a user list spans lines: remove the stray "
            "quote or close it at the end of the value"
        )
    elif "expected after" in reason:
        what = (
            'a double quote (") ends a value in the middle; put double quotes around the whole '
            'value and double any quote inside it ("")'
        )
    else:
        what = f"cannot be read as CSV ({reason}); re-save the file as CSV: {SAVE_AS_UTF8}"
    return UserListError(f"{path}: line {line}: {what}", path=path, line=line)


def _spanning(start: int, end: int, path: Path) -> UserListError:
    return UserListError(
        f'{path}: line {start}: a double quote (") opens a value that is not closed on that '
        f"line (it runs on to line {end}, swallowing the rows between); no value in a user "
        "list spans lines: remove the stray quote or close it at the end of the value",
        path=path,
        line=start,
    )


def _refuse_shape(mismatches: list[tuple[int, int]], width: int, path: Path) -> None:
    """Raise naming the first row with more values than the header has columns."""
    if not mismatches:
        return
    line, values = mismatches[0]
    more = ""
    if len(mismatches) > 1:
        others = ", ".join(str(n) for n, _ in mismatches[1:4])
        more = f" (so do line(s) {others}{', ...' if len(mismatches) > 4 else ''})"
    raise UserListError(
        f"{path}: line {line} has {values} values but the header (line 1) has {width} "
        f"column(s){more}, so its values cannot be matched to columns; put double quotes "
        "around any value that contains a comma, and separate values with commas, not ';' "
        "or tabs",
        path=path,
        line=line,
    )


def _refuse_misplaced(frame: pd.DataFrame, path: Path) -> None:
    """Raise when a row's values are in the wrong columns (another delimiter, swapped columns).

    Such a row would show a password in the email column, which the report displays.
    """
    if "email" not in frame.columns:
        return
    email = frame["email"]
    for sep, name in (";", "semicolon"), ("\t", "tab"):  # never in an unquoted address
        _refuse_first(
            email.str.contains(sep, regex=False),
            path,
            f"the email cell contains a {name} ({sep!r}), so the row looks delimited by it, "
            "not by commas; separate every value with a comma and put double quotes around a "
            "value that contains one",
        )
    no_at = ~email.str.contains("@", regex=False)
    if not no_at.any():
        return
    for column in frame.columns:
        if column in {"email", "source_username", "aliases"}:
            continue
        cells = frame.loc[no_at, column]
        _refuse_first(
            cells.str.fullmatch(PLAIN_ADDRESS).fillna(False).astype(bool),
            path,
            f"the email column holds no address but the {column} column does: the columns "
            "look swapped or shifted; put each value under its header (email, then password)",
        )


def _refuse_first(hit: pd.Series, path: Path, problem: str) -> None:
    """Raise ``<path>: line N: <problem>`` for the first line where ``hit`` is true."""
    if hit.any():
        line = int(hit[hit].index[0])
        raise UserListError(f"{path}: line {line}: {problem}", path=path, line=line)


def read_user_table(path: str | Path, *, limits: CSVLimits | None = None) -> UserTable:
    """Read ``path`` as comma-separated UTF-8 text with a header row, all or nothing.

    Raise :class:`UserListError` (one sentence naming the file, line and fix) when the file is
    missing, not a regular file (a folder, FIFO or device), over ``limits`` (size, lines,
    line length), empty, header-only, UTF-16/Latin-1, delimited by ``;``/tab/``|``, a
    spreadsheet renamed to .csv, without an email header, or misshapen: a quote never
    closed, a value spanning lines, a row whose value count is not the header's, values in
    the wrong columns. A misshapen file is never half-read: its cells could be in the wrong
    columns, and a password in a column the report shows.
    """
    path = Path(path)
    limits = limits or CSV_LIMITS
    try:
        data = read_bounded(path, max_bytes=limits.max_bytes, what=_WHAT)
    except FileRefused as exc:
        raise UserListError(f"{path}: {exc}", path=path) from None
    if not data:
        raise UserListError(
            f"{path}: is empty (0 bytes); export the user list with a header row "
            "email,password and one user per row",
            path=path,
        )
    _refuse_binary(data, path)
    text = _decode(data, path)
    if "\r" in text:  # Windows (CRLF) and old Mac (CR) line ends read as one line each
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    _refuse_long_lines(text, path, limits)
    _refuse_other_delimiter(text.split("\n", 1)[0], path)

    records = csv.reader(io.StringIO(text, newline=""), strict=True)
    try:
        header = next(records, [])
    except csv.Error as exc:
        raise _csv_error(exc, 1, path) from None
    if not any(h.strip() for h in header):
        raise UserListError(
            f"{path}: line 1 is blank; the first line must be the header row email,password",
            path=path,
            line=1,
        )
    if records.line_num > 1:
        raise _spanning(1, records.line_num, path)
    names = _map_headers(header, path)
    if "email" not in names or any("@" in h for h in header):
        # Without a header row the first user's password would be shown as a column name.
        raise UserListError(
            f"{path}: line 1 is not a header row naming an email column (email, E-mail or "
            "Email Address); if line 1 is already a user, add the header row email,password "
            "above it",
            path=path,
            line=1,
        )
    width = len(names)
    columns: list[list[str]] = [[] for _ in range(width)]
    index: list[int] = []
    mismatches: list[tuple[int, int]] = []
    blank = 0
    previous = 1
    while True:
        try:
            record = next(records, None)
        except csv.Error as exc:
            raise _csv_error(exc, previous + 1, path) from None
        if record is None:
            break
        row_number, previous = previous + 1, records.line_num
        if previous > row_number:
            raise _spanning(row_number, previous, path)
        if not any(record):
            blank += 1
            continue
        if len(record) > width:
            if any(record[width:]):
                mismatches.append((row_number, len(record)))
                continue
            record = record[:width]  # trailing empty values (a comma at the end): harmless
        elif len(record) < width:
            # Spreadsheets omit trailing empty cells; the cells present stay in their columns
            # (a row delimited otherwise is caught by its email cell, _refuse_misplaced).
            record = record + [""] * (width - len(record))
        if len(index) >= limits.max_users:
            raise UserListError(
                f"{path}: has more than {limits.max_users:,} users, the limit for one "
                "customer's list; check that this is the right file",
                path=path,
                line=row_number,
            )
        index.append(row_number)
        for col, value in zip(columns, record, strict=True):
            col.append(value)
    _refuse_shape(mismatches, width, path)
    if not index:
        raise UserListError(
            f"{path}: has a header row but no users; add one row per user below the header",
            path=path,
            line=2,
        )
    frame = pd.DataFrame(
        {name: pd.Series(col, index=index, dtype=object) for name, col in zip(names, columns)},  # noqa: B905
        index=pd.Index(index, name="row"),
    )
    _refuse_misplaced(frame, path)
    headers = {name: raw.strip() or name for name, raw in zip(names, header, strict=False)}
    for name in names:
        if name.startswith("(unnamed column") and not frame[name].astype(bool).any():
            frame = frame.drop(columns=name)  # a trailing comma on every line: harmless
            del headers[name]
    return UserTable(path=path, frame=frame, headers=headers, rows=len(index), blank_rows=blank)


def user_csv_path(spec: OnboardingSpec, csv_path: str | Path | None = None) -> Path:
    """Return the user CSV to read (``csv_path``, else ``spec.users_csv``), symlinks resolved.

    Raise :class:`UserListError` when it is outside the customer's folder (the spec's
    directory): ``users_csv`` and ``--users`` are also deployment parameters, and nothing
    but the customer's own file may be read into reports and artifacts.
    """
    path = Path(csv_path or spec.users_csv)
    if spec.spec_path is None:  # a spec built in code, not read from a customer's folder
        return path
    try:
        return inside_folder(path, spec.spec_path.absolute().parent, what="the user CSV")
    except FileRefused as exc:
        raise UserListError(f"{path}: {exc}", path=path) from None
