"""``onboard lab up | seed | status | env | down`` against real servers on free ports."""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from support.free_ports import up_on_free_ports
from typer.testing import CliRunner

from cli.main import app
from lab import ServerStartError
from lab._process import alive, descendants

runner = CliRunner()


@pytest.fixture
def state_root() -> Iterator[Path]:
    """A folder for the lab's state folders (one per start attempt); every lab in it is
    stopped at the end."""
    with tempfile.TemporaryDirectory(prefix="mrlab-cli-") as tmp:
        os.chmod(tmp, 0o755)
        yield Path(tmp)
        for lab_dir in Path(tmp).iterdir():
            runner.invoke(app, ["lab", "down", "--state-dir", str(lab_dir)])


def _json(args: list[str]) -> dict[str, object]:
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def _up_free_ports(state_dir: Path) -> dict[str, object]:
    """``lab up --free-ports``; a server that fails to start (a picked port taken meanwhile)
    raises ServerStartError so up_on_free_ports tries again in a new folder."""
    args = ["lab", "up", "--state-dir", str(state_dir), "--free-ports", "--format", "json"]
    result = runner.invoke(app, args)
    if result.exit_code != 0 and "failed to start" in result.output:
        raise ServerStartError("lab", result.output)
    assert result.exit_code == 0, result.output
    data: dict[str, object] = json.loads(result.stdout)
    return data


def test_lab_cli_round_trip(state_root: Path) -> None:
    """up twice keeps the same pids, status names every server with its pid and the lab
    credentials, seed reports counts (also of the gmail profile), down twice leaves no
    process of the lab running."""
    state_dir, first = up_on_free_ports(
        lambda n: state_root / f"lab{n}",
        _up_free_ports,
        lambda d: runner.invoke(app, ["lab", "down", "--state-dir", str(d)]),
    )
    where = ["--state-dir", str(state_dir)]
    again = _json(["lab", "up", *where, "--format", "json"])
    servers = first["servers"]
    assert isinstance(servers, dict)
    assert again["servers"] == servers
    for name in ("source", "destination", "gateway", "submission", "dns_auth", "dns_resolver"):
        assert servers[name]["healthy"] and servers[name]["pid"] and servers[name]["ports"]
    status = _json(["lab", "status", *where, "--format", "json"])
    assert status["source_master_user"] == "admin"
    assert status["source_master_password"]

    seeded = _json(["lab", "seed", *where, "--user", "x@seed.test", "--format", "json"])
    assert seeded["total"] == sum(seeded["counts"]["x@seed.test"].values()) > 0  # type: ignore[index]
    assert "x@seed.test" in _json(["lab", "status", *where, "--format", "json"])["source_users"]  # type: ignore[operator]
    gmail = _json(
        ["lab", "seed", *where, "--profile", "gmail", "--user", "g@seed.test", "--format", "json"]
    )
    assert gmail["profile"] == "gmail" and gmail["total"] == 87  # 38 messages in 87 folder entries

    env = runner.invoke(app, ["lab", "env", *where]).stdout
    assert "export ONBOARD_SECRET_ACME_SOURCE_MASTER=" in env

    pids = {s["pid"] for s in servers.values()}
    family = set().union(*(descendants(p) for p in pids))
    for _ in range(2):
        result = runner.invoke(app, ["lab", "down", *where])
        assert result.exit_code == 0, result.output
    assert not [p for p in pids | family if alive(p)]
    down = runner.invoke(app, ["lab", "status", *where, "--format", "json"])
    assert down.exit_code == 1  # servers reported, none healthy
    assert not json.loads(down.stdout)["healthy"]


def test_status_without_a_lab_is_unusable(tmp_path: Path) -> None:
    """No state folder: one sentence on stderr and exit 2, no traceback."""
    result = runner.invoke(app, ["lab", "status", "--state-dir", str(tmp_path / "none")])
    assert result.exit_code == 2
    assert "onboard lab up" in result.output
