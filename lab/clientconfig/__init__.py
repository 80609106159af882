"""The lab's client-configuration host: what MailRoute's autoconfig/autodiscover hosts do.

A small HTTP server (starlette on uvicorn, ``python -m lab.clientconfig``) on 127.0.0.1 that
serves, by the ``Host`` header, the files ``onboard client-guides`` wrote under ``publish/``:

- ``GET /mail/config-v1.1.xml`` (and ``/.well-known/autoconfig/mail/config-v1.1.xml``) on
  ``autoconfig.<domain>``: the Mozilla autoconfig file as published;
- ``POST /autodiscover/autodiscover.xml`` (any letter case) on ``autodiscover.<domain>``: the
  published Autodiscover response with the request's ``EMailAddress`` in place of
  ``%EMAILADDRESS%``; a request without an address gets 400.

Files live in ``<state>/clientconfig/sites/<host>/<path>``; :func:`publish` copies a
``publish/`` tree there (what MailRoute's operations would do on their hosts), and the
server reads them per request, so a re-publish needs no restart. Plain HTTP: a lab CA and
per-customer certificates are not part of the lab (see the README).
"""

from lab.clientconfig._app import build_app
from lab.clientconfig._sites import publish, publish_tree, sites_root

__all__ = ["build_app", "publish", "publish_tree", "sites_root"]
