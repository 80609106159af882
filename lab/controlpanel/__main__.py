"""``python -m lab.controlpanel --state-dir DIR --port PORT``: run the lab control panel."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from lab.controlpanel._server import SEED_RESELLER, serve


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m lab.controlpanel", description=__doc__)
    parser.add_argument("--state-dir", type=Path, required=True, help="the lab state folder")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--reseller", default=SEED_RESELLER, help="reseller created at first start")
    parser.add_argument(
        "--no-lab",
        action="store_true",
        help="keep changes in memory instead of applying them to the lab's servers",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(message)s")
    effects = None
    if not args.no_lab:
        from lab.controlpanel._lab_effects import lab_effects

        effects = lab_effects(args.state_dir)
    serve(args.state_dir, args.port, host=args.host, effects=effects, reseller=args.reseller)


if __name__ == "__main__":
    main()
