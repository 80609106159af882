"""``python -m lab.clientconfig --state-dir DIR --port PORT``: run the lab's client-config host."""

from __future__ import annotations

from lab._serve import serve
from lab.clientconfig._app import build_app


def main(argv: list[str] | None = None) -> None:
    serve("python -m lab.clientconfig", __doc__, lambda state, _port: build_app(state), argv)


if __name__ == "__main__":
    main()
