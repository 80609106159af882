"""Engines of the onboarding pipeline: plain Python, no Prefect import."""

from onboarding._exceptions import OnboardingError

__all__ = ["OnboardingError"]
