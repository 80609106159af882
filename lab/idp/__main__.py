"""``python -m lab.idp --state-dir DIR --port PORT``: run the lab's identity provider."""

from __future__ import annotations

from lab._serve import serve
from lab.idp._app import build_app


def main(argv: list[str] | None = None) -> None:
    serve("python -m lab.idp", __doc__, lambda state, port: build_app(state, port=port), argv)


if __name__ == "__main__":
    main()
