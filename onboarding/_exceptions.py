"""The root of every error the onboarding engines raise.

Each engine draws its own subtree under :class:`OnboardingError`::

    OnboardingError
    ├── SpecError                  (validation.spec: customer.yaml unusable)
    ├── UserListError              (validation.users: users.csv unusable)
    ├── ControlPanelError          (onboarding.controlpanel)
    ├── DNSCheckError              (onboarding.dnscheck)
    ├── MailSyncError              (onboarding.mailsync)
    └── LabError                   (lab: a lab server failed to start or answer)

Caller mistakes (wrong argument types, impossible option combinations) are plain
``ValueError``/``TypeError`` and stay outside the tree.
"""

from __future__ import annotations


class OnboardingError(Exception):
    """Raised for any failure an operator can act on; the message says what to do."""
