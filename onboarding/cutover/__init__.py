"""Cutover engine (runbook phases 3-4): readiness rule, ledger, control-panel steps, reports.

:mod:`.readiness` decides whether DNS allows the cutover (propagated and ttl_multiple × MX
TTL since the change); :mod:`.ledger` remembers the change time and the cutover id between
runs; :mod:`.routing` holds, switches and releases a domain in the control panel, each step
idempotent; :mod:`.report` and :mod:`.verification` shape what people read. No Prefect here.
"""

from onboarding.cutover._exceptions import (
    CutoverError,
    DomainMissing,
    HoldNotConfirmed,
    LedgerError,
    LedgerMissing,
)
from onboarding.cutover.ledger import (
    Ledger,
    ledger_path,
    load_ledger,
    noted_mx_ttls,
    require_ledger,
    save_ledger,
)
from onboarding.cutover.readiness import DomainReadiness, Readiness, assess_readiness
from onboarding.cutover.report import STEP_COLUMNS, CutoverOutcome, CutoverReport, FollowUp
from onboarding.cutover.routing import (
    DeliveryTarget,
    DomainPhase,
    DomainState,
    StepResult,
    hold_delivery,
    read_domain_state,
    release_delivery,
    switch_routing,
)
from onboarding.cutover.verification import ACCOUNT_COLUMNS, ISSUE_COLUMNS, VerificationReport

__all__ = [
    "ACCOUNT_COLUMNS",
    "ISSUE_COLUMNS",
    "STEP_COLUMNS",
    "CutoverError",
    "CutoverOutcome",
    "CutoverReport",
    "DeliveryTarget",
    "DomainMissing",
    "DomainPhase",
    "DomainReadiness",
    "DomainState",
    "FollowUp",
    "HoldNotConfirmed",
    "Ledger",
    "LedgerError",
    "LedgerMissing",
    "Readiness",
    "StepResult",
    "VerificationReport",
    "assess_readiness",
    "hold_delivery",
    "ledger_path",
    "load_ledger",
    "noted_mx_ttls",
    "read_domain_state",
    "release_delivery",
    "require_ledger",
    "save_ledger",
    "switch_routing",
]
