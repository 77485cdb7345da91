import os

from django.db import connection


def test_the_suite_runs_on_the_engine_it_was_asked_for():
    expected = os.environ.get("PILOTAGE_EXPECT_DB", "sqlite")
    assert connection.vendor == expected
