"""The command line of the lab's own Python servers: ``--state-dir D --port P [--host H]``."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

import uvicorn

__all__ = ["serve"]


def serve(
    prog: str, description: str | None, build: Callable[[Path, int], Any], argv: list[str] | None
) -> None:
    """Parse the arguments and run ``build(state_dir, port)``'s ASGI app until stopped."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    parser.add_argument("--state-dir", type=Path, required=True, help="the lab state folder")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    config = uvicorn.Config(
        build(args.state_dir.absolute(), args.port),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    uvicorn.Server(config).run()
