"""Tests of onboarding.dnscheck (package so module names do not clash with other engines)."""
