"""DKIM Secret blocks (issue 13): injective names, the key carries its domain and selector
(checked on load), and a key under the old (colliding) name is still found and re-saved."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from onboarding.dnscheck import DKIMKeyError
from onboarding.dnscheck.dkim import generate_private_key, load_key, stored_key_value
from tasks.adapters import (
    dkim_block_name,
    dkim_blocks_to_save,
    dkim_keys,
    legacy_dkim_block_name,
    stored_dkim_pems,
)
from tasks.vault import Vault
from validation.spec import parse_spec

BLOCK_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")  # Prefect block names, the spec's rule


def _spec(tmp_path: Path, *domains: str) -> Any:
    data = {
        "customer": "Acme Corp",
        "reseller": "R",
        "domains": [{"name": d, "mail_servers": [{"host": "127.0.0.1"}]} for d in domains],
        "users_csv": "users.csv",
    }
    return parse_spec(data, path=tmp_path / "customer.yaml")


def _vault(blocks: dict[str, str]) -> Vault:
    def secret(name: str) -> str:
        if name not in blocks:
            raise LookupError(name)
        return blocks[name]

    return Vault(None, (), secret=secret)


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("acme-corp.com", "acme.corp.com"),
        ("x" * 55 + ".example.com", "x" * 55 + ".example.net"),  # same 63-character prefix
        ("Acme.test", "acme.test."),  # the same domain: one block
    ],
)
def test_block_names_are_injective_and_valid(a: str, b: str) -> None:
    """Rule: two different domains never share a DKIM block (slugs collide, long names are
    cut), the same domain always maps to one, and every name is a valid block name."""
    same = a.lower().rstrip(".") == b.lower().rstrip(".")
    assert (dkim_block_name(a, "mr1") == dkim_block_name(b, "mr1")) is same
    for name in (dkim_block_name(a, "mr1"), dkim_block_name(b, "mr1")):
        assert BLOCK_NAME.match(name) and name.startswith("dkim-")
    assert dkim_block_name(a, "mr1") != dkim_block_name(a, "mr2")


def test_a_stored_key_names_its_domain_and_another_domains_key_is_refused(
    tmp_path: Path,
) -> None:
    """Rule: the block's value says whose key it is; a block holding the key of another
    domain is refused with one sentence that shows no key material."""
    pem = generate_private_key(1024)
    spec = _spec(tmp_path, "acme.corp.com")
    mine = {dkim_block_name("acme.corp.com", "mr1"): stored_key_value("acme.corp.com", "mr1", pem)}
    assert stored_dkim_pems(spec, _vault(mine))["acme.corp.com"] == pem
    theirs = {
        dkim_block_name("acme.corp.com", "mr1"): stored_key_value("acme-corp.com", "mr1", pem)
    }
    with pytest.raises(DKIMKeyError, match=r"holds the key of acme-corp\.com") as info:
        dkim_keys(spec, _vault(theirs))
    assert "PRIVATE" not in str(info.value) and pem.get_secret_value()[40:80] not in str(info.value)
    bare = {dkim_block_name("acme.corp.com", "mr1"): pem.get_secret_value()}
    with pytest.raises(DKIMKeyError, match="does not hold a stored DKIM key"):
        dkim_keys(spec, _vault(bare))


def test_a_key_under_the_old_name_is_reused_and_resaved_under_the_new_one(
    tmp_path: Path,
) -> None:
    """Rule: an existing customer keeps the key already published: the old block (a bare PEM)
    is read when the new one is missing, and is to be saved under the new name with its
    domain; a key already under the new name is not saved again."""
    pem = generate_private_key(1024)
    spec = _spec(tmp_path, "acme.test", "fresh.test")
    vault = _vault({legacy_dkim_block_name("acme.test", "mr1"): pem.get_secret_value()})
    pems = stored_dkim_pems(spec, vault)
    assert pems == {"acme.test": pem, "fresh.test": None}
    keys = [load_key(d, "mr1", p, bits=1024) for d, p in pems.items()]
    saves = dkim_blocks_to_save(spec, vault, keys)
    assert set(saves) == {dkim_block_name("acme.test", "mr1"), dkim_block_name("fresh.test", "mr1")}
    stored = json.loads(saves[dkim_block_name("acme.test", "mr1")])
    assert (stored["domain"], stored["selector"]) == ("acme.test", "mr1")
    assert stored["private_key_pem"] == pem.get_secret_value()
    done = _vault(saves)
    assert dkim_blocks_to_save(spec, done, keys) == {}
