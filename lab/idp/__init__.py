"""The lab's identity provider: Microsoft's and Google's documented token contracts on 127.0.0.1.

``python -m lab.idp --state-dir D --port P`` serves, from the registry ``<D>/idp/registry.json``
(re-read at every request, so a test can add an app or shorten lifetimes while it runs):

* ``POST /{tenant}/oauth2/v2.0/token`` — the Microsoft identity platform's client-credentials
  grant (``client_id``, ``client_secret``, ``scope``, ``grant_type=client_credentials``), with
  its errors ``AADSTS90002`` (tenant not found), ``AADSTS700016`` (unknown app) and
  ``AADSTS7000215`` (invalid client secret).
* ``POST /token`` — Google's JWT-bearer grant (RFC 7523): an RS256 assertion signed by a service
  account key whose public half the registry holds, ``sub`` = the user (domain-wide
  delegation); errors ``invalid_grant`` and ``unauthorized_client`` as Google words them.

Both issue HS256 JWTs signed with the registry's key, which the source Dovecot validates
locally (its oauth2 passdb, ``introspection_mode = local``). The registry is written by
:class:`lab._idp.IdentityProvider`.
"""

from lab.idp._registry import Registry, load_registry, save_registry

__all__ = ["Registry", "load_registry", "save_registry"]
