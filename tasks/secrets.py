"""Resolve a secret by Prefect Secret block name, inside a task, never as a parameter.

For local runs and the lab, an environment variable ``ONBOARD_SECRET_<NAME>`` (name upper-cased,
dashes as underscores) takes precedence, so ``onboard`` works without a Prefect server holding
blocks. The value is returned to the caller only; it is never logged or persisted.
"""

from __future__ import annotations

import json
import os
from typing import cast

from prefect.blocks.system import Secret

__all__ = ["env_var_for", "load_secret"]


def env_var_for(block_name: str) -> str:
    """Return the environment variable that can stand in for ``block_name``."""
    return "ONBOARD_SECRET_" + block_name.upper().replace("-", "_")


def load_secret(block_name: str) -> str:
    """Return the secret value named ``block_name`` from the environment or a Secret block."""
    value = os.environ.get(env_var_for(block_name))
    if value:
        return value
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
