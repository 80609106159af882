"""Unusable user files get one clear sentence naming the file, the line and the fix."""

from __future__ import annotations

import io
import os
import re
import zipfile
from pathlib import Path

import pytest

from onboarding import OnboardingError
from validation.csv_reader import CSVLimits, UserListError, canonical_column, read_user_table

GOOD = "email,password\r\njane.doe@acme.test,Tr7!kd9Lqw\r\n"


def _write(tmp_path: Path, data: bytes, name: str = "users.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def _error(path: Path) -> UserListError:
    with pytest.raises(UserListError) as info:
        read_user_table(path)
    message = str(info.value)
    assert message.startswith(str(path)), "the message names the file"
    assert "\n" not in message and "Traceback" not in message, "one sentence"
    return info.value


def test_missing_file(tmp_path: Path) -> None:
    """A path that does not exist says so and how to point at the right file."""
    error = _error(tmp_path / "nope.csv")
    assert "no such file" in str(error) and "--users" in str(error)
    assert isinstance(error, OnboardingError)


def test_directory(tmp_path: Path) -> None:
    """A folder is refused as a folder."""
    (tmp_path / "users.csv").mkdir()
    assert "is a folder" in str(_error(tmp_path / "users.csv"))


def test_zero_bytes(tmp_path: Path) -> None:
    """An empty file names the header it should have."""
    assert "empty (0 bytes)" in str(_error(_write(tmp_path, b"")))


def test_header_only(tmp_path: Path) -> None:
    """A header with no users is unusable and points at line 2."""
    error = _error(_write(tmp_path, b"email,password\r\n\r\n"))
    assert "no users" in str(error)
    assert error.line == 2


@pytest.mark.parametrize(
    ("sep", "name"), [(";", "semicolon"), ("\t", "tab"), ("|", "pipe")], ids=["semi", "tab", "pipe"]
)
def test_other_delimiters_are_named(tmp_path: Path, sep: str, name: str) -> None:
    """Semicolon/tab/pipe-delimited exports name the delimiter they used."""
    text = f"email{sep}password\njane.doe@acme.test{sep}Tr7!kd9Lqw\n"
    error = _error(_write(tmp_path, text.encode()))
    assert f"{name}-delimited" in str(error) and "comma" in str(error)
    assert error.line == 1


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_is_refused_with_resave_advice(tmp_path: Path, encoding: str) -> None:
    """UTF-16 (with or without BOM) is named, with how to re-save as UTF-8."""
    error = _error(_write(tmp_path, GOOD.encode(encoding)))
    assert "UTF-16" in str(error) and "CSV UTF-8" in str(error)


def test_latin1_names_the_offending_line_without_quoting_it(tmp_path: Path) -> None:
    """Latin-1 bytes name the line (not its content, which may be a password) and the fix."""
    data = "email,password\njane.doe@acme.test,Tr7!kd9Lqw\nrené@acme.test,Pässwörd99!x\n"
    error = _error(_write(tmp_path, data.encode("latin-1")))
    assert "line 3" in str(error) and "Latin-1" in str(error) and "UTF-8" in str(error)
    assert error.line == 3
    assert "Pässwörd" not in str(error) and "rené" not in str(error)


def _zip(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, content in entries.items():
            archive.writestr(name, content)
    return buffer.getvalue()


def test_xlsx_renamed_to_csv(tmp_path: Path) -> None:
    """An Excel workbook renamed to .csv is recognised by its bytes."""
    data = _zip({"[Content_Types].xml": b"<Types/>", "xl/workbook.xml": b"<workbook/>"})
    error = _error(_write(tmp_path, data))
    assert "Excel workbook (.xlsx)" in str(error) and "save it as CSV" in str(error)


def test_ods_renamed_to_csv(tmp_path: Path) -> None:
    """An OpenDocument spreadsheet renamed to .csv is recognised by its mimetype entry."""
    data = _zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"})
    assert "OpenDocument spreadsheet (.ods)" in str(_error(_write(tmp_path, data)))


def test_xls_renamed_to_csv(tmp_path: Path) -> None:
    """An old .xls (OLE2) file is recognised by its signature."""
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 512
    assert "old Excel workbook (.xls)" in str(_error(_write(tmp_path, data)))


def test_crlf_bom_and_quoted_commas_are_fine(tmp_path: Path) -> None:
    """Windows line endings, a UTF-8 BOM, quoted commas and blank lines read as ordinary CSV."""
    data = (
        "\ufeffEmail Address,Password\r\n"
        'jane.doe@acme.test,"Tr7!kd,9Lqw"\r\n'
        '"john.roe@acme.test","Qu0""ted!x"\r\n'
        "\r\n"
        "amy.poe@acme.test,Xy9!abcdefg\r\n"
    ).encode()
    table = read_user_table(_write(tmp_path, data))
    assert list(table.frame.columns) == ["email", "password"]
    assert table.headers == {"email": "Email Address", "password": "Password"}
    assert table.frame.loc[2, "password"] == "Tr7!kd,9Lqw"
    assert table.frame.loc[3, "password"] == 'Qu0"ted!x'
    # Spreadsheet rows: header 1, users 2, 3, blank 4, user 5.
    assert list(table.frame.index) == [2, 3, 5]
    assert (table.rows, table.blank_rows) == (3, 1)


def test_old_mac_line_ends_read_as_lines(tmp_path: Path) -> None:
    """CR-only line ends ("CSV (Macintosh)") are lines, not one long line."""
    data = b"email,password\rjane.doe@acme.test,Tr7!kd9Lqw\ramy.poe@acme.test,Xy9!abcdefg\r"
    assert list(read_user_table(_write(tmp_path, data)).frame.index) == [2, 3]


def test_short_rows_are_padded(tmp_path: Path) -> None:
    """A row without its trailing empty cells reads as empty there (spreadsheets omit them)."""
    data = b"email,password,aliases\njane.doe@acme.test,Tr7!kd9Lqw\nx@acme.test,y,\nbob@acme.test\n"
    table = read_user_table(_write(tmp_path, data))
    assert table.frame.loc[2, "aliases"] == "" and table.frame.loc[4, "password"] == ""
    assert list(table.frame.index) == [2, 3, 4] and table.rows == 3


def test_two_email_columns_are_refused(tmp_path: Path) -> None:
    """Two headers that both mean email cannot be told apart."""
    error = _error(_write(tmp_path, b"email,E-mail,password\na@acme.test,b@acme.test,x\n"))
    assert "two email columns" in str(error)


@pytest.mark.parametrize(
    ("header", "canonical"),
    [
        ("email", "email"),
        ("email_address", "email"),
        ("EmailAddress", "email"),
        ("E-mail", "email"),
        ("Email Address", "email"),
        ("E-Mail-Adresse", None),
        ("password", "password"),
        ("Password", "password"),
        ("PASSWD", "password"),
        ("Source Username", "source_username"),
        ("source_password", "source_password"),
        ("Aliases", "aliases"),
        ("alias", "aliases"),
        ("email_aliases", "aliases"),
        ("other_addresses", "aliases"),
        ("notes", None),
    ],
)
def test_header_spellings(header: str, canonical: str | None) -> None:
    """Common header spellings map to the canonical column; others stay unknown."""
    assert canonical_column(header) == canonical


PW = "Tr7!kd9Lqw"
TWENTY = "".join(f"user{i}@acme.test,Pw{i}!secretXy\n" for i in range(20))
MALFORMED = {
    "no-header": (f"jane@acme.test,{PW}\n{TWENTY}", 1, "not a header row"),
    "stray-quote-in-email-never-closed": (
        f'email,password\n"jane@acme.test,{PW}\n{TWENTY}',
        2,
        "never closed",
    ),
    "stray-quote-in-email-closed-rows-later": (
        f'email,password\n"jane@acme.test,{PW}\n{TWENTY}bob@acme.test",{PW}\n',
        2,
        "runs on to line 23",
    ),
    "stray-quote-in-aliases": (
        f'email,password,aliases\njane@acme.test,{PW},"sales\n{TWENTY}',
        2,
        "never closed",
    ),
    "quote-mid-value": (f'email,password\n"jane"@acme.test,{PW}\n', 2, "ends a value"),
    "semicolon-row": (f"email,password\njane@acme.test;{PW}\n{TWENTY}", 2, "semicolon"),
    "semicolon-row-with-comma-in-password": (
        f"email,password\n{TWENTY}jane@acme.test;Tr7,kd9Lqw\n",
        22,
        "semicolon",
    ),
    "tab-row": (f"email,password\n{TWENTY}jane@acme.test\t{PW}\n", 22, "tab"),
    "swapped-columns": (f"email,password\n{PW},jane@acme.test\n", 2, "swapped"),
    "extra-values": (f"email,password\n{TWENTY}jane@acme.test,Tr7,kd9Lqw\n", 22, "3 values"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
def test_malformed_files_are_refused_whole(tmp_path: Path, case: str) -> None:
    """A file whose shape is wrong is refused as a whole, naming the line, never half-read,
    and the sentence quotes no cell (so no password)."""
    text, line, words = MALFORMED[case]
    error = _error(_write(tmp_path, text.encode()))
    assert words in str(error) and error.line == line
    assert f"line {line}" in str(error)
    for secret in [PW, "Tr7,kd9Lqw", "secretXy", "jane@acme.test"]:
        assert secret not in str(error)


def test_limits_are_named(tmp_path: Path) -> None:
    """Size, line-length and user-count limits are refused with the limit in the sentence."""
    small = CSVLimits(max_users=2, max_bytes=200, max_line_chars=40)
    rows = "".join(f"u{i}@acme.test,{PW}\n" for i in range(3))
    cases = [
        ("email,password\n" + "x" * 300, "over the limit of 200 bytes"),
        ("email,password\n" + "x" * 41 + "\n", "longer than 40 characters"),
        ("email,password\n" + rows, "more than 2 users"),
        ("email,password\n" + "\n" * 20, "over the limit of 13"),
    ]
    for text, words in cases:
        with pytest.raises(UserListError, match=re.escape(words)):
            read_user_table(_write(tmp_path, text.encode()), limits=small)


@pytest.mark.parametrize("target", ["/dev/zero", "/dev/null"])
def test_devices_are_not_files(target: str) -> None:
    """A device is refused at once (it is never read)."""
    error = _error(Path(target))
    assert "is a device, not a file" in str(error)


def test_fifo_is_not_waited_on(tmp_path: Path) -> None:
    """A FIFO is refused without blocking on it."""
    os.mkfifo(tmp_path / "users.csv")
    assert "is a FIFO" in str(_error(tmp_path / "users.csv"))
