"""Benchmarks: one command each (`uv run python bench/<name>.py`); results in docs/benchmarks.md."""
