"""Where the lab's client-configuration host keeps its published files, and publishing them."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

__all__ = ["publish", "publish_tree", "site_file", "sites_root"]


def sites_root(state_dir: Path) -> Path:
    """``<state>/clientconfig/sites``: one folder per host name."""
    return Path(state_dir) / "clientconfig" / "sites"


def _safe(relative: str) -> PurePosixPath:
    path = PurePosixPath(relative)
    if path.is_absolute() or ".." in path.parts or len(path.parts) < 2:
        raise ValueError(f"{relative!r}: expected <host>/<path> inside the document root")
    return path


def site_file(state_dir: Path, host: str, path: str) -> Path | None:
    """The published file for ``host`` and URL ``path``, or None (unknown host or path)."""
    host = host.split(":", 1)[0].strip().lower().rstrip(".")
    if not host or "/" in host or host.startswith("."):
        return None
    try:
        relative = _safe(f"{host}/{path.lstrip('/')}")
    except ValueError:
        return None
    target = sites_root(state_dir).joinpath(*relative.parts)
    return target if target.is_file() else None


def publish(state_dir: Path, files: Mapping[str, str | bytes]) -> list[str]:
    """Write ``{"<host>/<path>": content}`` into the document root atomically; return the keys."""
    root = sites_root(state_dir)
    for relative, content in files.items():
        target = root.joinpath(*_safe(relative).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_bytes(content.encode() if isinstance(content, str) else content)
        os.replace(tmp, target)
    return sorted(files)


def publish_tree(state_dir: Path, folder: Path) -> list[str]:
    """Publish every file under ``folder`` (a client-guides run's ``publish/``)."""
    files = {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }
    return publish(state_dir, files)
