"""Tests of onboarding.clientconfig."""
