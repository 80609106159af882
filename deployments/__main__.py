"""``python -m deployments``: validate prefect.yaml; exit 1 and list the problems if any."""

from __future__ import annotations

import sys
from pathlib import Path

from deployments.validate import validate_prefect_yaml


def main() -> int:
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("prefect.yaml")
    result = validate_prefect_yaml(path)
    for problem in result.problems:
        print(problem, file=sys.stderr)
    if result.valid:
        print(
            f"{path}: {len(result.deployments)} deployments valid: {', '.join(result.deployments)}"
        )
    return 0 if result.valid else 1


if __name__ == "__main__":
    sys.exit(main())
