"""Which customer a run is for: a spec path, or a slug under the worker's customers root.

A run started from the Prefect UI names its customer by slug (``acme``): the worker finds
``<root>/acme/customer.yaml``. The root is configured once per Prefect server, as the
Prefect Variable :data:`ROOT_VARIABLE` (``prefect variable set onboarding_customers_root
/srv/customers``), or per worker with the environment variable :data:`ROOT_ENV`, which wins
when set. A path to a spec file (or to a folder holding ``customer.yaml``) keeps working, as
the command line passes it; it is used as given and the root is not consulted.

A name that is neither says in one sentence which root was searched and which customers are
there.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

import yaml

from validation.spec import MAX_SPEC_BYTES as _MAX_SPEC_BYTES
from validation.spec import SpecError

__all__ = [
    "ROOT_ENV",
    "ROOT_VARIABLE",
    "SPEC_FILE",
    "customers_root",
    "resolve_spec_path",
    "slug_of",
]

ROOT_VARIABLE = "onboarding_customers_root"
ROOT_ENV = "ONBOARD_CUSTOMERS_ROOT"
SPEC_FILE = "customer.yaml"
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


def customers_root() -> Path | None:
    """The configured customers root: ``$ONBOARD_CUSTOMERS_ROOT``, else the Prefect Variable."""
    value = os.environ.get(ROOT_ENV)
    if not value:
        from prefect.variables import Variable

        found = Variable.get(ROOT_VARIABLE, default=None)  # sync call: the value
        value = str(found) if found else None
    return Path(value).expanduser() if value else None


def _customers(root: Path) -> list[str]:
    try:
        return sorted(p.name for p in root.iterdir() if (p / SPEC_FILE).is_file())
    except OSError:
        return []


def resolve_spec_path(ref: Path | str) -> Path:
    """The spec file ``ref`` names: an existing file or folder as given, else a slug under
    :func:`customers_root`; raise :class:`~validation.spec.SpecError` naming the root and
    its customers when there is none."""
    path = Path(ref)
    if path.is_file():
        return path
    if (path / SPEC_FILE).is_file():
        return path / SPEC_FILE
    root = customers_root()
    text = str(ref)
    if root is not None and _SLUG.match(text) and (root / text / SPEC_FILE).is_file():
        return root / text / SPEC_FILE
    if root is None:
        where = (
            f"no customers root is configured to look it up as a slug (set the Prefect "
            f"Variable {ROOT_VARIABLE} or {ROOT_ENV} to the folder holding <slug>/{SPEC_FILE})"
        )
    else:
        names = _customers(root)
        there = ", ".join(names) if names else f"none (no <slug>/{SPEC_FILE} in it)"
        where = f"the customers root {root} has no {text}/{SPEC_FILE}; customers there: {there}"
    raise SpecError(
        f"{text!r} is not a customer spec file (from {Path.cwd()}) and {where}", path=path
    )


def slug_of(ref: Path | str) -> str:
    """The customer's slug for a run name, before the flow validates the spec: the slug
    given, else the spec's ``slug`` key, else the name of the folder holding the spec."""
    if _SLUG.match(str(ref)):
        return str(ref)
    path = Path(ref)
    spec = path / SPEC_FILE if path.is_dir() else path
    with contextlib.suppress(OSError, yaml.YAMLError, UnicodeDecodeError):
        if spec.stat().st_size <= _MAX_SPEC_BYTES:
            data = yaml.safe_load(spec.read_text(encoding="utf-8"))
            slug = data.get("slug") if isinstance(data, dict) else None
            if isinstance(slug, str) and _SLUG.match(slug):
                return slug
    return spec.parent.name or str(ref)
