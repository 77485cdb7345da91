"""Fixtures shared by the back-office tests: the programme of the public pages' tests, one user per role, PDFs."""

from __future__ import annotations

import re
from html import unescape

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from pilotage.accounts.services import create_or_update_user
from pilotage.web.tests.factories import make_programme

PDF_BYTES = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"

# Who is who: the role and scope of each test user (`create_user`'s vocabulary).
PEOPLE = {
    "team": ("territory_team", "ti-4401"),
    "other_team": ("territory_team", "ti-4402"),
    "pilot": ("regional_pilot", "44"),
    "other_pilot": ("regional_pilot", "32"),
    "state": ("state_services", "44"),
    "national": ("national", None),
}


def pdf(name: str = "contrat.pdf", content: bytes = PDF_BYTES, content_type: str = "application/pdf"):
    return SimpleUploadedFile(name, content, content_type=content_type)


def text(response) -> str:
    """The page's visible text, roughly: tags dropped, entities decoded, spaces collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", html))).replace("\xa0", " ").replace("\u202f", " ")


def hidden_version(response) -> str:
    return re.search(r'name="version" value="([^"]+)"', response.content.decode()).group(1)


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def programme(geo_slice, media):
    return make_programme()


@pytest.fixture
def people(programme):
    return {key: create_or_update_user(f"{key}@example.fr", role, scope)[0] for key, (role, scope) in PEOPLE.items()}


@pytest.fixture
def as_user(client, people):
    """A client logged in as one of `PEOPLE` (or anonymous for None)."""

    def login(key: str | None):
        client.logout()
        if key:
            client.force_login(people[key])
        return client

    return login
