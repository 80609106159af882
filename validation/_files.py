"""Read a customer's input file safely: a regular file, inside its folder, of bounded size.

The spec and the user CSV come from customers (and from deployment parameters), so a path may
name ``/dev/zero``, a FIFO that never sends, a 10 GB file, or a symlink to ``/etc/passwd``.
:func:`read_bounded` opens without blocking and without following a final symlink, refuses
anything that is not a regular file, and reads at most ``max_bytes + 1`` bytes, so time and
memory are bounded by the limit whatever the path names. :func:`inside_folder` keeps a path
under the customer's folder (symlinks resolved first).

Both raise :class:`FileRefused` with the end of a sentence (``"is a FIFO, not a file; ..."``);
each reader prefixes the path and raises its own error type.
"""

from __future__ import annotations

import errno
import os
import stat
from pathlib import Path

__all__ = ["FileRefused", "inside_folder", "read_bounded"]


class FileRefused(Exception):
    """Raised with the rest of a sentence after ``<path>:`` when a file cannot be read."""


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def read_bounded(path: Path, *, max_bytes: int, what: str) -> bytes:
    """Return the bytes of the regular file ``path``, refusing one over ``max_bytes``.

    ``what`` names the file for the fix (``"the user CSV"``). A final symlink is refused
    (``O_NOFOLLOW``): callers resolve the path with :func:`inside_folder` first.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags | os.O_NOFOLLOW)
    except FileNotFoundError:
        raise FileRefused(f"no such file; check the path of {what}") from None
    except PermissionError:
        raise FileRefused(f"cannot be read (permission denied); make {what} readable") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise FileRefused(f"is a symbolic link; point at {what} itself") from None
        raise FileRefused(f"cannot be opened ({os.strerror(exc.errno or 0)})") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise FileRefused(f"is a folder, not a file; point at {what} inside it")
        if not stat.S_ISREG(info.st_mode):
            raise FileRefused(f"is {_kind(info.st_mode)}, not a file; point at {what} itself")
        if info.st_size > max_bytes:
            raise FileRefused(_too_big(info.st_size, max_bytes, what))
        chunks: list[bytes] = []
        left = max_bytes + 1  # a file growing while read is still caught
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
    except OSError as exc:
        raise FileRefused(f"cannot be read ({os.strerror(exc.errno or 0)})") from None
    finally:
        os.close(fd)
    data = b"".join(chunks)
    if len(data) > max_bytes:
        raise FileRefused(_too_big(len(data), max_bytes, what))
    return data


def _too_big(size: int, limit: int, what: str) -> str:
    return (
        f"is {_size(size)} or more, over the limit of {_size(limit)} for {what}; "
        f"check that this is the right file"
    )


def _size(n: int) -> str:
    if n >= 1 << 20:
        return f"{n / (1 << 20):.0f} MiB" if n % (1 << 20) == 0 else f"{n / (1 << 20):.1f} MiB"
    if n >= 1 << 10:
        return f"{n / (1 << 10):.0f} KiB"
    return f"{n} bytes"


def inside_folder(path: Path, folder: Path, *, what: str) -> Path:
    """Return ``path`` with symlinks resolved, or raise when it is outside ``folder``.

    ``folder`` is the customer's folder (the spec's directory); a relative ``path`` is
    taken as given (relative to the working directory, as a shell user typed it).
    """
    root = folder.resolve()
    try:
        real = path.resolve()
    except (OSError, RuntimeError):  # a symlink loop
        raise FileRefused(f"cannot be resolved (a symbolic link loop); point at {what}") from None
    if not real.is_relative_to(root):
        via = " (through a symbolic link)" if str(real) != os.path.abspath(path) else ""
        raise FileRefused(
            f"is outside the customer's folder {root}{via}; {what} must be a file in that "
            f"folder (next to customer.yaml)"
        )
    return real
