"""Demonstration data: a generated, deterministic Territoires d'industrie programme (`pilotage load_demo`).

The platform shows a « données de démonstration » banner whenever such data is loaded: templates can use
`has_demo_data()` directly or the `demo_context` context processor (`{% if DEMO_DATA %}`).
"""

from django.utils.functional import SimpleLazyObject


def has_demo_data() -> bool:
    """One indexed EXISTS query: is any demonstration territory in the database?"""
    from .loader import has_demo_data as query

    return query()


def demo_context(request) -> dict:
    """`DEMO_DATA` for every template; lazy, so a page that never tests it costs no query (one EXISTS otherwise)."""
    return {"DEMO_DATA": SimpleLazyObject(has_demo_data)}
