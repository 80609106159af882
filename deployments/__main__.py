"""``python -m deployments``: validate prefect.yaml; exit 1 and list the problems if any.

With ``--automations`` (and ``PREFECT_API_URL`` naming the team's server) it then sets up the
automations of :mod:`deployments.automations`, notifying ``--notify-block`` (any notification
block, ``<block-type-slug>/<name>``) or a ``custom-webhook/onboarding-ops`` block it saves for
``--notify-webhook URL``. Exit 2 when the target is missing or unusable.
"""

from __future__ import annotations

import argparse
import sys
from datetime import timedelta
from pathlib import Path

from deployments.validate import validate_prefect_yaml

_WEBHOOK_BLOCK = "onboarding-ops"


def _arguments(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m deployments", description=__doc__)
    parser.add_argument("prefect_yaml", nargs="?", type=Path, default=Path("prefect.yaml"))
    parser.add_argument(
        "--automations",
        action="store_true",
        help="also create the notification and crashed-worker automations on the server",
    )
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--notify-block", help="notification block, e.g. slack-webhook/ops")
    target.add_argument(
        "--notify-webhook",
        metavar="URL",
        help=f"save custom-webhook/{_WEBHOOK_BLOCK} posting JSON to URL and notify it",
    )
    parser.add_argument(
        "--zombie-after",
        type=float,
        default=90.0,
        metavar="SECONDS",
        help="mark a run Crashed after this long without a heartbeat (default 90; above "
        "PREFECT_FLOWS_HEARTBEAT_FREQUENCY of the workers)",
    )
    return parser.parse_args(argv)


def _install(args: argparse.Namespace) -> int:
    from prefect.settings import PREFECT_API_URL

    from deployments.automations import install, save_webhook_block

    if not PREFECT_API_URL.value():
        print("--automations: set PREFECT_API_URL to the team's Prefect server", file=sys.stderr)
        return 2
    if args.notify_webhook:
        ref = save_webhook_block(_WEBHOOK_BLOCK, args.notify_webhook)
    elif args.notify_block:
        ref = args.notify_block
    else:
        print("--automations needs --notify-block or --notify-webhook", file=sys.stderr)
        return 2
    try:
        done = install(ref, zombie_after=timedelta(seconds=args.zombie_after))
    except LookupError as exc:
        print(exc, file=sys.stderr)
        return 2
    print(f"{len(done.names)} automations notifying {ref}: {', '.join(done.names)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _arguments(sys.argv[1:] if argv is None else argv)
    path: Path = args.prefect_yaml
    result = validate_prefect_yaml(path)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if result.valid:
        print(
            f"{path}: {len(result.deployments)} deployments valid: {', '.join(result.deployments)}"
        )
    if not result.valid:
        return 1
    return _install(args) if args.automations else 0


if __name__ == "__main__":
    sys.exit(main())
