"""Shared pieces of the Streamlit AppTest tests: the app's main file and the error check."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest

from .conftest import REPO

APP = str(REPO / "app.py")


def ok(at: AppTest) -> AppTest:
    """`at` after checking that its last run raised nothing."""
    assert not at.exception, [e.value for e in at.exception]
    return at
