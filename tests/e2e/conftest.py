import pytest


@pytest.fixture(scope="session")
def browser_context_args(browser_context_args):
    """A French visitor: the site's audience, whose browser asks for French (Accept-Language: fr-FR)."""
    return {**browser_context_args, "locale": "fr-FR", "viewport": {"width": 1280, "height": 900}}
