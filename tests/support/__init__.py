"""Test helpers shared across the suite (fixtures are imported by tests/conftest.py)."""
