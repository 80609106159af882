"""Test and benchmark helpers that are real network parts, not mocks (the fault proxy)."""
