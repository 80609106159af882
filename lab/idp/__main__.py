"""``python -m lab.idp --state-dir DIR --port PORT``: run the lab's identity provider."""

from __future__ import annotations

import argparse
from pathlib import Path

import uvicorn

from lab.idp._app import build_app


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lab.idp", description=__doc__)
    parser.add_argument("--state-dir", type=Path, required=True, help="the lab state folder")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    args = parser.parse_args(argv)
    config = uvicorn.Config(
        build_app(args.state_dir.absolute(), port=args.port),
        host=args.host,
        port=args.port,
        log_level="warning",
        access_log=False,
        lifespan="off",
    )
    uvicorn.Server(config).run()


if __name__ == "__main__":
    main()
