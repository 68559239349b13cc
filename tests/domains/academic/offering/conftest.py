"""Fixtures of the offering tests: those of the programme tests (the academic world of the
test's own)."""

from tests.domains.academic.programmes.conftest import world  # noqa: F401 (fixtures)
