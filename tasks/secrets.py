"""Resolve a secret by Prefect Secret block name, inside a task, never as a parameter.

For local runs and the lab, an environment variable ``ONBOARD_SECRET_<NAME>`` (name upper-cased,
dashes as underscores) takes precedence, so ``onboard`` works without a Prefect server holding
blocks. The value is returned to the caller only; it is never logged or persisted.

One source of truth (issue 11): when the spec names the team's Prefect server
(``prefect.api_url``), a Secret block is read or created only on that server. A run on any
other API (the temporary local server of a run without ``PREFECT_API_URL``, another team's)
raises :class:`WrongPrefectServer` naming both URLs, rather than finding no DKIM key there and
making a new one that would ask the customer to replace the published record.
"""

from __future__ import annotations

import json
import os
from typing import cast

from prefect.blocks.system import Secret

__all__ = ["WrongPrefectServer", "env_var_for", "load_secret", "require_team_server"]


class WrongPrefectServer(RuntimeError):
    """Raised when a Secret block would be read or created on another Prefect API than the
    team server the spec names."""

    transient = False  # a task retry talks to the same server


def current_api_url() -> str | None:
    """The Prefect API this process talks to (None: no server configured)."""
    from prefect.settings import get_current_settings

    url = get_current_settings().api.url
    return str(url) if url else None


def _same(a: str, b: str) -> bool:
    return a.rstrip("/").lower() == b.rstrip("/").lower()


def require_team_server(team_api: str | None, what: str) -> None:
    """Refuse (raise :class:`WrongPrefectServer`) to ``what`` when the spec names a team
    server ``team_api`` and this process talks to another API."""
    current = current_api_url()
    if team_api is None or (current is not None and _same(team_api, current)):
        return
    here = current or "no Prefect server (a temporary local one)"
    raise WrongPrefectServer(
        f"refusing to {what} on {here}: the customer's spec names the team Prefect server "
        f"{team_api} (prefect.api_url) as the one source of its secrets; run with "
        f"PREFECT_API_URL={team_api}"
    )


def env_var_for(block_name: str) -> str:
    """Return the environment variable that can stand in for ``block_name``."""
    return "ONBOARD_SECRET_" + block_name.upper().replace("-", "_")


def load_secret(block_name: str, *, team_api: str | None = None) -> str:
    """Return the secret value named ``block_name`` from the environment or a Secret block
    (only on the team server ``team_api``, when given)."""
    value = os.environ.get(env_var_for(block_name))
    if value:
        return value
    require_team_server(team_api, f"read the Secret block {block_name!r}")
    try:
        block = cast(Secret, Secret.load(block_name))  # sync call: returns the block
    except ValueError:
        raise LookupError(
            f"no Prefect Secret block named {block_name!r} and no {env_var_for(block_name)} "
            f"variable; create the block in the Prefect UI (Blocks > Secret) or set the variable"
        ) from None
    # The stored text as saved: ``Secret.get()`` would parse a JSON value (a DKIM key record)
    # into a dict, whose ``str`` is no longer JSON.
    raw = block.value.get_secret_value()
    return raw if isinstance(raw, str) else json.dumps(raw)
