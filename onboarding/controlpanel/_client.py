"""The typed control-panel client: one :class:`Resource` per API resource.

Example::

    with ControlPanelClient("https://admin.mailroute.net", "login:key") as cp:
        cp.check_access()
        acme = cp.customers.find(name="Acme Corp")
        for account in cp.email_accounts.list(domain=111):
            ...

Lists follow ``meta.next`` until it is null (contract §1.2), asking ``page_size`` objects per
page. Creates send only fields the resource's ``/schema/`` lists as writable (contract §6.5);
each schema is read once per client. PUT merges onto the current object (contract §6.3) and
accepts 202 with a body or 204 without (then re-reads). ``transport=`` is the test seam.
"""

from __future__ import annotations

import builtins
import logging
import threading
from collections.abc import Callable, Iterator, Mapping
from types import TracebackType
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import ValidationError

from onboarding.controlpanel._exceptions import UnexpectedResponse
from onboarding.controlpanel._http import RetryPolicy, Sender
from onboarding.controlpanel._models import (
    Customer,
    Domain,
    DomainAlias,
    EmailAccount,
    LocalpartAlias,
    MailServer,
    NewCustomer,
    NewDomain,
    NewDomainAlias,
    NewEmailAccount,
    NewLocalpartAlias,
    NewMailServer,
    NewReseller,
    Reseller,
    ResourceSchema,
    _New,
    _Read,
)
from onboarding.tls import url_problem

__all__ = ["API_ROOT", "ControlPanelClient", "Resource"]

log = logging.getLogger(__name__)

API_ROOT = "/api/v1/"
_SECRET_FIELDS = ("password", "confirm_password", "sasl_password")
_READONLY_ALWAYS = frozenset(
    {"id", "pk", "resource_uri", "absolute_url", "created_at", "updated_at", "policy"}
)

R = TypeVar("R", bound=_Read)
N = TypeVar("N", bound=_New)

FilterValue = str | int | bool


def _filter_params(filters: Mapping[str, FilterValue]) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in filters.items():
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        else:
            out[key] = str(value)
    return out


def _json(response: httpx.Response, *, method: str, path: str) -> Any:
    try:
        return response.json()
    except ValueError:
        raise UnexpectedResponse(
            f"{method} {path}: the control panel sent a body that is not JSON "
            f"({response.status_code}, {response.headers.get('content-type', 'no type')})",
            method=method,
            path=path,
            status=response.status_code,
        ) from None


class Resource(Generic[R, N]):
    """List, read, create, update and delete one resource type, as typed models."""

    def __init__(self, client: ControlPanelClient, model: type[R], new: type[N]) -> None:
        self._client = client
        self.model = model
        self.new = new
        self.name = model.resource
        self.path = f"{API_ROOT}{self.name}/"

    def uri(self, id_: int) -> str:
        """Return the resource URI of object ``id_`` (``/api/v1/domain/111/``)."""
        return f"{self.path}{id_}/"

    def _parse(self, data: Any, *, method: str, path: str) -> R:
        try:
            return self.model.model_validate(data)
        except ValidationError as exc:
            fields = sorted({str(e["loc"][0]) for e in exc.errors() if e["loc"]})
            raise UnexpectedResponse(
                f"{method} {path}: the {self.name} object lacks or mistypes {', '.join(fields)}",
                method=method,
                path=path,
            ) from None

    def list(self, **filters: FilterValue) -> Iterator[R]:
        """Yield every object matching Django-style ``filters`` (``name__startswith=...``)."""
        params: dict[str, str] | None = {
            "limit": str(self._client.page_size),
            **_filter_params(filters),
        }
        path: str | None = self.path
        while path is not None:
            response = self._client.sender.send("GET", path, params=params)
            page = _json(response, method="GET", path=path)
            if not isinstance(page, dict) or not isinstance(page.get("objects"), list):
                raise UnexpectedResponse(
                    f"GET {path}: a list response needs 'meta' and 'objects'",
                    method="GET",
                    path=path,
                )
            for item in page["objects"]:
                yield self._parse(item, method="GET", path=path)
            nxt = (page.get("meta") or {}).get("next")
            path, params = (self._client.relative(nxt), None) if nxt else (None, None)

    def all(self, **filters: FilterValue) -> builtins.list[R]:
        """Return every matching object as a list."""
        return list(self.list(**filters))

    def find(self, **filters: FilterValue) -> R | None:
        """Return the first object matching ``filters``, or None."""
        return next(iter(self.list(**filters)), None)

    def get(self, id_: int) -> R:
        """Return object ``id_``; raise :class:`NotFound` if it does not exist."""
        path = self.uri(id_)
        response = self._client.sender.send("GET", path)
        return self._parse(_json(response, method="GET", path=path), method="GET", path=path)

    def create(self, new: N) -> R:
        """Create an object (201) and return it as the server stored it."""
        body = self._client.filter_fields(self.name, new.body())
        secrets = tuple(str(body[k]) for k in _SECRET_FIELDS if body.get(k))
        response = self._client.sender.send(
            "POST", self.path, json=body, expect=(201, 200), secrets=secrets
        )
        if response.content:
            return self._parse(
                _json(response, method="POST", path=self.path), method="POST", path=self.path
            )
        location = response.headers.get("Location")  # contract §1.1: 201 may have no body
        if not location:
            raise UnexpectedResponse(
                f"POST {self.path}: 201 without a body or Location", method="POST", path=self.path
            )
        return self._client.get_uri(self, location)

    def update(self, id_: int, changes: Mapping[str, Any]) -> R:
        """GET, merge ``changes``, PUT the writable fields back; return the stored object."""
        current = self._client.sender.send("GET", self.uri(id_))
        merged = dict(_json(current, method="GET", path=self.uri(id_)))
        merged.update(changes)
        body = self._client.filter_fields(self.name, merged)
        secrets = tuple(str(body[k]) for k in _SECRET_FIELDS if body.get(k))
        path = self.uri(id_)
        response = self._client.sender.send(
            "PUT", path, json=body, expect=(202, 200, 204), secrets=secrets
        )
        if response.status_code == 204 or not response.content:
            return self.get(id_)
        return self._parse(_json(response, method="PUT", path=path), method="PUT", path=path)

    def delete(self, id_: int) -> None:
        """Delete object ``id_`` (204). Deletes cascade on the server and cannot be undone."""
        self._client.sender.send("DELETE", self.uri(id_), expect=(204, 200, 202))


class ControlPanelClient:
    """A MailRoute control-panel API client authenticating as ``login:key``."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        transport: httpx.BaseTransport | None = None,
        timeout: float = 15.0,
        retry: RetryPolicy | None = None,
        page_size: int = 100,
        max_connections: int = 32,
        sleep: Callable[[float], None] | None = None,
        allow_plaintext: bool = False,
    ) -> None:
        login, sep, key = api_key.strip().partition(":")
        if not sep or not login or not key:
            raise ValueError("the API key must have the form 'login:key' (contract §1)")
        if not (api_key.strip().isascii() and api_key.strip().isprintable()):
            raise ValueError(
                "the API key holds a character an HTTP header cannot carry (non-ASCII or a "
                "control character); copy 'login:key' again from the control panel"
            )
        problem = url_problem(base_url, "controlpanel.base_url", allow_plaintext=allow_plaintext)
        if problem:
            raise ValueError(problem)
        if not 1 <= page_size <= 100:
            raise ValueError("page_size must be 1-100 (contract §6.9)")
        self.base_url = base_url.rstrip("/")
        self.login = login
        self.page_size = page_size
        self._http = httpx.Client(
            base_url=self.base_url,
            headers={
                "Authorization": f"ApiKey {login}:{key}",
                "Accept": "application/json",
                "Content-Type": "application/json",
            },
            transport=transport,
            timeout=timeout,
            limits=httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=max_connections
            ),
        )
        kwargs: dict[str, Any] = {"retry": retry or RetryPolicy()}
        if sleep is not None:
            kwargs["sleep"] = sleep
        self.sender = Sender(self._http, **kwargs)
        self._schemas: dict[str, ResourceSchema] = {}
        self._schema_lock = threading.Lock()
        self.resellers: Resource[Reseller, NewReseller] = Resource(self, Reseller, NewReseller)
        self.customers: Resource[Customer, NewCustomer] = Resource(self, Customer, NewCustomer)
        self.domains: Resource[Domain, NewDomain] = Resource(self, Domain, NewDomain)
        self.mail_servers: Resource[MailServer, NewMailServer] = Resource(
            self, MailServer, NewMailServer
        )
        self.email_accounts: Resource[EmailAccount, NewEmailAccount] = Resource(
            self, EmailAccount, NewEmailAccount
        )
        self.localpart_aliases: Resource[LocalpartAlias, NewLocalpartAlias] = Resource(
            self, LocalpartAlias, NewLocalpartAlias
        )
        self.domain_aliases: Resource[DomainAlias, NewDomainAlias] = Resource(
            self, DomainAlias, NewDomainAlias
        )

    def __repr__(self) -> str:
        return f"ControlPanelClient({self.base_url!r}, login={self.login!r})"

    def __enter__(self) -> ControlPanelClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._http.close()

    @property
    def requests_made(self) -> dict[str, int]:
        """Return how many HTTP requests (tries included) this client sent, by method."""
        return dict(self.sender.requests)

    def relative(self, path_or_url: str) -> str:
        """Return a host-relative path for ``meta.next`` or a ``Location`` (either form)."""
        parts = urlsplit(path_or_url)
        return parts.path + (f"?{parts.query}" if parts.query else "")

    def get_uri(self, resource: Resource[R, N], uri: str) -> R:
        """Return the object at resource URI ``uri`` (``/api/v1/domain/111/``)."""
        path = self.relative(uri)
        response = self.sender.send("GET", path)
        return resource._parse(_json(response, method="GET", path=path), method="GET", path=path)

    def root(self) -> dict[str, str]:
        """Return the API root map: resource name → list endpoint."""
        data = _json(self.sender.send("GET", API_ROOT), method="GET", path=API_ROOT)
        return {name: str(info.get("list_endpoint", "")) for name, info in data.items()}

    def check_access(self) -> None:
        """Fail fast (contract §6.15): raise AuthenticationFailed/PermissionDenied at once."""
        self.sender.send("GET", f"{API_ROOT}customer/", params={"limit": "1"})

    def schema(self, resource: str) -> ResourceSchema:
        """Return ``/api/v1/<resource>/schema/``, read once per client (even across threads)."""
        with self._schema_lock:
            cached = self._schemas.get(resource)
            if cached is not None:
                return cached
            path = f"{API_ROOT}{resource}/schema/"
            data = _json(self.sender.send("GET", path), method="GET", path=path)
            try:
                schema = ResourceSchema.model_validate(data)
            except ValidationError:
                raise UnexpectedResponse(
                    f"GET {path}: not a resource schema (no 'fields')", method="GET", path=path
                ) from None
            self._schemas[resource] = schema
            return schema

    def filter_fields(self, resource: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Return ``body`` without fields the server's schema lacks or marks read-only."""
        writable = self.schema(resource).writable() - _READONLY_ALWAYS
        kept = {k: v for k, v in body.items() if k in writable}
        dropped = sorted(set(body) - set(kept) - _READONLY_ALWAYS)
        if "password" in dropped:  # the account would get a password nobody knows
            raise UnexpectedResponse(
                f"the server's {resource} schema has no writable 'password' field, so the "
                "users' passwords cannot be set (contract §6.6); ask MailRoute support"
            )
        if dropped:
            log.debug("%s: not sending fields the server does not accept: %s", resource, dropped)
        return kept

    def set_hold(self, domain_id: int, hold: bool) -> Domain:
        """Hold (True) or release (False) delivery for a domain by PUT (contract §3.3)."""
        return self.domains.update(domain_id, {"hold_email": hold})
