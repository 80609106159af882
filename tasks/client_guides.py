"""Tasks of the ``client-guides`` flow: render the bundle, write it, publish the artifact.

Nothing here reads the vault: the guides are built from the spec and the validated users
(addresses and aliases), so no password can reach a file, an artifact or a result.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from prefect import get_run_logger, task
from prefect.artifacts import create_markdown_artifact
from prefect.cache_policies import NO_CACHE

from onboarding.clientconfig import render_bundle
from onboarding.reports import RunFolder
from tasks.adapters import guide_inputs
from validation.spec import OnboardingSpec
from validation.users import ValidatedUser

__all__ = ["GuidesWritten", "guides_key", "write_client_guides"]


def guides_key(spec: OnboardingSpec) -> str:
    """The artifact key of the client guides: ``client-guides-<customer-slug>``."""
    return f"client-guides-{spec.customer_slug}"


@dataclass(frozen=True)
class GuidesWritten:
    """Where the bundle went and what is in it (paths relative to the run folder)."""

    folder: Path
    files: tuple[str, ...]
    users: int
    publish: tuple[str, ...]


def _artifact(spec: OnboardingSpec, written: GuidesWritten, guide_md: str) -> str:
    publish = "\n".join(f"- `{p}`" for p in written.publish)
    return (
        f"{guide_md}\n---\n\n**Files** in `{written.folder}`: `guide.md`, `guide.html`, "
        f"`guide.pdf`, `user-sheets.pdf`, {written.users} user sheet(s) under `users/` and "
        "Apple profiles under `profiles/`.\n\n**To publish on our autoconfig/autodiscover "
        f"hosts** (under `publish/`):\n\n{publish}\n"
    )


@task(name="write-client-guides", persist_result=False, cache_policy=NO_CACHE)
def write_client_guides(spec: OnboardingSpec, users: Sequence[ValidatedUser]) -> GuidesWritten:
    """Render guide, sheets, profiles and files to publish into a new run folder."""
    bundle = render_bundle(guide_inputs(spec, users))
    folder = RunFolder.create(spec.output_dir, spec.customer_slug, "client-guides")
    for f in bundle:
        target = folder.path / f.path
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(f.content)
    written = GuidesWritten(
        folder.path,
        tuple(f.path for f in bundle),
        len(users),
        tuple(f.path for f in bundle if f.path.startswith("publish/")),
    )
    guide_md = (folder.path / "guide.md").read_text(encoding="utf-8")
    create_markdown_artifact(
        _artifact(spec, written, guide_md),
        key=guides_key(spec),
        description=f"Email client guides for {spec.customer}: {len(users)} user sheet(s)",
    )
    get_run_logger().info(
        "client guides for %d user(s) and %d domain(s); artifact %s, files in %s",
        len(users),
        len(spec.domains),
        guides_key(spec),
        folder.path,
    )
    return written
