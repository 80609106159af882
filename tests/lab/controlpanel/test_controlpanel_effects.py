"""What the control panel asks the lab to do: routes, holds and logins follow the database."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from lab._postfix_conf import check_address
from lab.controlpanel import RecordingEffects, build, verify_password
from lab.controlpanel._service import ApiError, Service


def _customer(service: Service) -> dict[str, Any]:
    """Create the customer Acme under the seeded reseller; return it."""
    return service.create("customer", {"name": "Acme", "reseller": "/api/v1/reseller/1/"})


def _acme_test(service: Service, **fields: Any) -> dict[str, Any]:
    """Create the customer Acme and its domain acme.test (with ``fields``); return the domain."""
    customer = _customer(service)
    return service.create(
        "domain", {"name": "acme.test", "customer": customer["resource_uri"], **fields}
    )


@pytest.fixture
def setup(tmp_path: Path) -> tuple[Service, RecordingEffects, dict[str, Any]]:
    effects = RecordingEffects()
    _, service, _, _ = build(tmp_path, effects)
    return service, effects, _acme_test(service, deliveryport=10024)


def test_lowest_priority_mail_server_becomes_the_route(setup: Any) -> None:
    """Rule: the gateway route is lmtp:inet:<lowest-priority server>:<deliveryport>."""
    service, effects, domain = setup
    assert "acme.test" not in effects.routes
    backup = service.create(
        "mail_server", {"domain": domain["resource_uri"], "server": "10.0.0.2", "priority": 20}
    )
    assert effects.routes["acme.test"] == "lmtp:inet:10.0.0.2:10024"
    primary = service.create(
        "mail_server", {"domain": domain["resource_uri"], "server": "10.0.0.1", "priority": 10}
    )
    assert effects.routes["acme.test"] == "lmtp:inet:10.0.0.1:10024"
    service.replace("domain", str(domain["id"]), {"deliveryport": 2525})
    assert effects.routes["acme.test"] == "lmtp:inet:10.0.0.1:2525"
    service.remove("mail_server", str(primary["id"]))
    assert effects.routes["acme.test"] == "lmtp:inet:10.0.0.2:2525"
    service.remove("mail_server", str(backup["id"]))
    assert "acme.test" not in effects.routes


def test_hold_email_holds_and_releases_once(setup: Any) -> None:
    """Rule: hold_email true → hold, false → release; an unchanged PUT changes nothing."""
    service, effects, domain = setup
    service.replace("domain", str(domain["id"]), {"hold_email": True})
    service.replace("domain", str(domain["id"]), {"hold_email": True})
    assert effects.held == {"acme.test"}
    service.replace("domain", str(domain["id"]), {"hold_email": False})
    assert effects.held == set()
    assert [c for c in effects.calls if c[0] in ("hold", "release")] == [
        ("hold", "acme.test"),
        ("release", "acme.test"),
    ]


def test_accounts_become_logins_and_deleting_the_domain_removes_them(setup: Any) -> None:
    """Rule: an account is a login with its password's hash; a cascade delete removes it."""
    service, effects, domain = setup
    service.create(
        "email_account",
        {
            "domain": domain["resource_uri"],
            "localpart": "Ann",
            "create_opt": "create_pwd",
            "password": "Pw-1234567890",
            "confirm_password": "Pw-1234567890",
        },
    )
    assert verify_password("Pw-1234567890", effects.accounts["ann@acme.test"])
    service.create("mail_server", {"domain": domain["resource_uri"], "server": "10.0.0.1"})
    service.remove("domain", str(domain["id"]))
    assert effects.accounts == {}
    assert "acme.test" not in effects.routes


class _BrokenDestination(RecordingEffects):
    def set_accounts(self, logins: Any) -> None:
        raise OSError("disk full")


def test_a_failing_lab_undoes_the_account(tmp_path: Path) -> None:
    """Rule: if the lab cannot add the login, the account is not kept and the answer is 500."""
    _, service, _, _ = build(tmp_path, _BrokenDestination())
    domain = _acme_test(service)
    with pytest.raises(ApiError) as info:
        service.create(
            "email_account",
            {"domain": domain["resource_uri"], "localpart": "bo", "create_opt": "generate_pwd"},
        )
    assert info.value.status == 500
    listed = service.collection("email_account", [("domain", str(domain["id"]))])
    assert listed["meta"]["total_count"] == 0


class _GatewayDown(RecordingEffects):
    def hold(self, domain: str) -> None:
        raise OSError("postqueue: mail system is down")


def test_start_up_survives_a_gateway_that_is_not_up_yet(tmp_path: Path) -> None:
    """Rule: at start-up, a domain the lab cannot take yet is reported, the rest applied."""
    _, service, _, _ = build(tmp_path, RecordingEffects())
    customer = _customer(service)
    for name, hold in (("held.test", True), ("open.test", False)):
        d = service.create(
            "domain", {"name": name, "customer": customer["resource_uri"], "hold_email": hold}
        )
        service.create("mail_server", {"domain": d["resource_uri"], "server": "10.0.0.9"})
    effects = _GatewayDown()
    _, restarted, _, _ = build(tmp_path, effects)  # a restart over the same state folder
    assert restarted.apply_all() == ["held.test"]
    assert effects.routes["open.test"] == "lmtp:inet:10.0.0.9:25"


def _account(service: Service, domain: dict[str, Any], localpart: str) -> dict[str, Any]:
    return service.create(
        "email_account",
        {"domain": domain["resource_uri"], "localpart": localpart, "create_opt": "generate_pwd"},
    )


def _alias(service: Service, account: dict[str, Any], localpart: str) -> dict[str, Any]:
    return service.create(
        "localpart_alias", {"email_account": account["resource_uri"], "localpart": localpart}
    )


def test_aliases_follow_the_database(setup: Any) -> None:
    """Rule: a localpart_alias is a gateway alias to its account's address; it follows a
    domain rename and goes with its alias, account or domain."""
    service, effects, domain = setup
    ann = _account(service, domain, "ann")
    sales = _alias(service, ann, "Sales")
    assert sales["domain"] == domain["resource_uri"]
    assert effects.aliases == {"sales@acme.test": "ann@acme.test"}
    assert service.detail("email_account", str(ann["id"]))["aliases"] == "sales"

    service.replace("domain", str(domain["id"]), {"name": "acme-corp.test"})
    assert effects.aliases == {"sales@acme-corp.test": "ann@acme-corp.test"}
    service.remove("localpart_alias", str(sales["id"]))
    assert effects.aliases == {}

    _alias(service, ann, "info")
    service.remove("email_account", str(ann["id"]))
    assert effects.aliases == {}
    bob = _account(service, domain, "bob")
    _alias(service, bob, "help")
    service.remove("domain", str(domain["id"]))
    assert effects.aliases == {}
    assert [c for c in effects.calls if c[0] == "remove_alias"] == [
        ("remove_alias", "sales@acme.test"),
        ("remove_alias", "sales@acme-corp.test"),
        ("remove_alias", "info@acme-corp.test"),
        ("remove_alias", "help@acme-corp.test"),
    ]


def test_an_alias_cannot_take_an_address_someone_owns(setup: Any) -> None:
    """Rule: an address is one account or one alias; a clash is a 400 on localpart, and the
    gateway keeps sending the owner's mail to the owner."""
    service, effects, domain = setup
    ann, bob = _account(service, domain, "ann"), _account(service, domain, "bob")
    _alias(service, ann, "sales")
    clashes = [
        ("localpart_alias", {"email_account": ann["resource_uri"], "localpart": "bob"}),
        ("localpart_alias", {"email_account": bob["resource_uri"], "localpart": "sales"}),
        (
            "email_account",
            {"domain": domain["resource_uri"], "localpart": "sales", "create_opt": "generate_pwd"},
        ),
    ]
    for name, body in clashes:
        with pytest.raises(ApiError) as info:
            service.create(name, body)
        assert info.value.status == 400
        assert "choose another localpart" in info.value.body[name]["localpart"][0]
    with pytest.raises(ApiError) as info:
        _alias(service, ann, "sales")
    assert info.value.body == {
        "localpart_alias": {
            "__all__": ["Localpart alias with this Email account and Localpart already exists."]
        }
    }
    assert effects.aliases == {"sales@acme.test": "ann@acme.test"}


def test_a_restart_reapplies_every_alias(setup: Any, tmp_path: Path) -> None:
    """Rule: at start-up the control panel applies its aliases again, like its routes."""
    service, _, domain = setup
    _alias(service, _account(service, domain, "ann"), "sales")
    effects = RecordingEffects()
    build(tmp_path, effects)  # a restart over the same state folder
    assert effects.aliases == {"sales@acme.test": "ann@acme.test"}


class _AliasesBroken(RecordingEffects):
    def set_alias(self, alias: str, target: str) -> None:
        raise OSError("postmap: fatal")


def test_a_failing_gateway_undoes_the_alias(tmp_path: Path) -> None:
    """Rule: if the gateway cannot take the alias, it is not kept and the answer is 500."""
    _, service, _, _ = build(tmp_path, _AliasesBroken())
    domain = _acme_test(service)
    ann = _account(service, domain, "ann")
    with pytest.raises(ApiError) as info:
        _alias(service, ann, "sales")
    assert info.value.status == 500
    assert service.collection("localpart_alias", [])["meta"]["total_count"] == 0


@pytest.mark.parametrize("localpart", ["#sales", "a#b", "sales", ".sales", "sa..les", "s" * 65])
def test_the_panel_takes_exactly_the_localparts_the_gateway_takes(
    setup: Any, localpart: str
) -> None:
    """Rule: one localpart rule; one the gateway refuses (``#sales``) is a 400 on localpart
    and nothing is kept or applied, not a 500 from a failed gateway write."""
    service, effects, domain = setup
    ann = _account(service, domain, "ann")
    try:
        check_address(f"{localpart}@acme.test")
        gateway_takes = True
    except ValueError:
        gateway_takes = False
    if gateway_takes:
        _alias(service, ann, localpart)
        assert effects.aliases == {f"{localpart}@acme.test": "ann@acme.test"}
        return
    with pytest.raises(ApiError) as info:
        _alias(service, ann, localpart)
    assert info.value.status == 400
    assert list(info.value.body) == ["localpart_alias"]
    assert "Enter a valid localpart" in info.value.body["localpart_alias"]["localpart"][0]
    assert service.collection("localpart_alias", [])["meta"]["total_count"] == 0
    assert effects.aliases == {}


def test_a_password_change_leaves_the_aliases_alone(setup: Any, tmp_path: Path) -> None:
    """Rule: only a write that can change an alias's address touches the gateway's aliases:
    a password PATCH succeeds even while the alias map cannot be written."""
    service, _, domain = setup
    ann = _account(service, domain, "ann")
    _alias(service, ann, "sales")
    effects = _AliasesBroken()
    _, restarted, _, _ = build(tmp_path, effects)  # a restart: sales is not applied yet
    assert restarted.apply_all() == ["sales@acme.test"]
    restarted.replace(
        "email_account",
        str(ann["id"]),
        {"password": "Pw-0987654321", "confirm_password": "Pw-0987654321"},
    )
    assert verify_password("Pw-0987654321", effects.accounts["ann@acme.test"])
    assert [c for c in effects.calls if "alias" in c[0]] == []


class _AliasRemovalBroken(RecordingEffects):
    def remove_alias(self, alias: str) -> None:
        raise OSError("postmap: fatal")


def test_a_delete_removes_logins_and_routes_even_if_an_alias_removal_fails(
    tmp_path: Path,
) -> None:
    """Rule: a delete is committed; if the gateway cannot drop an alias the answer is 500,
    but the deleted accounts lose their logins and the domain its route all the same."""
    effects = _AliasRemovalBroken()
    _, service, _, _ = build(tmp_path, effects)
    domain = _acme_test(service)
    service.create("mail_server", {"domain": domain["resource_uri"], "server": "10.0.0.1"})
    ann, bob = _account(service, domain, "ann"), _account(service, domain, "bob")
    _alias(service, ann, "sales")
    _alias(service, bob, "help")

    with pytest.raises(ApiError) as info:
        service.remove("email_account", str(ann["id"]))
    assert info.value.status == 500
    assert "ann@acme.test" not in effects.accounts
    assert "bob@acme.test" in effects.accounts

    with pytest.raises(ApiError) as info:
        service.remove("domain", str(domain["id"]))
    assert info.value.status == 500
    assert effects.accounts == {}
    assert "acme.test" not in effects.routes
