"""Apply control-panel changes to the running lab (gateway Postfix, destination Dovecot)."""

from __future__ import annotations

from pathlib import Path

from lab.controlpanel._effects import LabEffects, RecordingEffects

__all__ = ["lab_effects"]


def lab_effects(state_dir: Path) -> LabEffects:
    """Return effects bound to the lab under ``state_dir`` (placeholder until the Lab API lands)."""
    return RecordingEffects()
