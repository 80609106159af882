"""The root of every error the onboarding engines raise.

Each engine hangs one base class under :class:`OnboardingError`::

    OnboardingError
    ├── SpecError                  (validation.spec: customer.yaml unusable)
    │   └── MigrationNotConfigured (validation.spec: a migration step, migration not enabled)
    ├── UserListError              (validation.users: users.csv unusable)
    │   ├── UserListInvalidError   (validation.users: credentials asked for, problems remain)
    │   └── UserSelectionError     (validation.users: --users names an address not listed)
    ├── ControlPanelError          (onboarding.controlpanel)
    ├── CutoverError               (onboarding.cutover)
    ├── DNSCheckError              (onboarding.dnscheck)
    ├── MailFlowError              (onboarding.mailflow)
    ├── MailSyncError              (onboarding.mailsync)
    ├── NoticeError                (onboarding.notices)
    └── LabError                   (lab: a lab server failed to start or answer)

and draws the subtree below it in the docstring of the module that defines it
(``onboarding/<engine>/_exceptions.py``, ``lab/_errors.py``). The text in parentheses names the
package to import for the class. tests/onboarding/test_exceptions.py pins every drawing to the
classes in the code.

Caller mistakes (wrong argument types, impossible option combinations) are plain
``ValueError``/``TypeError`` and stay outside the tree.
"""

from __future__ import annotations


class OnboardingError(Exception):
    """Raised for any failure an operator can act on; the message says what to do."""
