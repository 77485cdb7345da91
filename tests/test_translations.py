"""The interface in English: the catalogue translates every French source string, the compiled catalogues match
their sources, and the main pages switched to English (language switcher) show no French interface text.

Source strings (msgids) are French; `locale/fr` repeats them only so that French plurals follow the French rule
("0 territoire"), which Django would otherwise take from the English one ("0 territoires").
"""

import ast
import gettext
import re
from html import unescape
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import translation

from pilotage.accounts.services import create_or_update_user
from pilotage.opendata.schema import FUNDING, PROJECTS
from pilotage.web.tests.factories import make_programme

LOCALE = Path(settings.LOCALE_PATHS[0])
# Python-format placeholders, `{{ var }}` of blocktranslate (stored as %(var)s) and inline HTML tags.
PLACEHOLDER_RE = re.compile(r"%\(\w+\)[.\d]*[sdf]|%%|<[^>]+>")
# Interface words a French page shows and an English one must not (data such as place names may be French).
FRENCH_TELLTALES = [
    "Accueil",
    "Rechercher",
    "Connexion",
    "Se connecter",
    "Projets remontés",
    "Tableau de bord",
    "Tableaux de bord",
    "Plan d'actions",
    "Gouvernance",
    "Périmètre",
    "Financements",
    "Réunions",
    "Jalons",
    "Indicateurs",
    "Chiffres clés",
    "Voir les données",
    "Mot de passe",
    "Adresse électronique",
    "Fermer",
    "Pied de page",
    "Aucun",
    "Aucune",
    "Télécharger",
    "Retour",
    "Mon espace",
    "Importer",
    "Enregistrer",
    "Situation au",
]
# Proper nouns and data that stay French in English pages.
ALLOWED_FRENCH = ["Territoires d'industrie", "Territoire d'industrie", "République Française", "Français"]


def read_po(path: Path) -> list[dict[str, str]]:
    """The entries of a .po file as {field: unescaped text}: enough of the format for makemessages' output."""
    entries, entry, field = [], {}, None
    for line in path.read_text(encoding="utf-8").splitlines() + [""]:
        if not line.strip():
            if entry:
                entries.append(entry)
            entry, field = {}, None
        elif line.startswith("#,"):
            entry["flags"] = line[2:]
        elif line.startswith("#"):
            continue
        elif line.startswith('"'):
            entry[field] += ast.literal_eval(line)
        else:
            field, _, value = line.partition(" ")
            entry[field] = ast.literal_eval(value)
    return [e for e in entries if e.get("msgid")]


def msgstrs(entry: dict[str, str]) -> list[str]:
    return [value for key, value in entry.items() if key.startswith("msgstr")]


def placeholders(text: str) -> list[str]:
    return sorted(PLACEHOLDER_RE.findall(text))


EN = read_po(LOCALE / "en" / "LC_MESSAGES" / "django.po")
FR = read_po(LOCALE / "fr" / "LC_MESSAGES" / "django.po")


def test_every_french_string_has_an_english_translation_with_the_same_placeholders():
    assert len(EN) > 1000  # the whole interface, not a stub catalogue
    untranslated = [e["msgid"] for e in EN if not all(s.strip() for s in msgstrs(e))]
    assert untranslated == []
    assert [e["msgid"] for e in EN if "fuzzy" in e.get("flags", "")] == []
    mismatched = []
    for entry in EN:
        plural = entry.get("msgid_plural", entry["msgid"])
        for key, text in entry.items():
            if not key.startswith("msgstr") or placeholders(text) == placeholders(plural):
                continue
            # An English singular may drop the count ("The project") like its French source does.
            if not (key == "msgstr[0]" and placeholders(text) == placeholders(entry["msgid"])):
                mismatched.append((entry["msgid"], text))
    assert mismatched == []


def test_the_french_catalogue_has_every_string_and_the_french_plural_rule():
    assert {e["msgid"] for e in FR} == {e["msgid"] for e in EN}
    assert all(msgstrs(e) == [e["msgid"]] or msgstrs(e) == [e["msgid"], e["msgid_plural"]] for e in FR)
    header = (LOCALE / "fr" / "LC_MESSAGES" / "django.po").read_text(encoding="utf-8")
    assert "Plural-Forms: nplurals=2; plural=(n > 1);" in header


@pytest.mark.parametrize("language", ["en", "fr"])
def test_the_compiled_catalogues_are_those_of_the_sources(language):
    """The .mo files are committed (neither the tests nor CI have gettext): they must not lag behind the .po."""
    with (LOCALE / language / "LC_MESSAGES" / "django.mo").open("rb") as mo:
        compiled = gettext.GNUTranslations(mo)
    entries = EN if language == "en" else FR
    stale = []
    for entry in entries:
        if "msgid_plural" in entry:
            got = [compiled.ngettext(entry["msgid"], entry["msgid_plural"], n) for n in (1, 5)]
            if got != [entry["msgstr[0]"], entry["msgstr[1]"]]:
                stale.append(entry["msgid"])
        elif compiled.gettext(entry["msgid"]) != entry["msgstr"]:
            stale.append(entry["msgid"])
    assert stale == []


def test_the_import_columns_documentation_is_translated():
    texts = [t for resource in (PROJECTS, FUNDING) for c in resource.columns for t in (c.title, c.description) if t]
    with translation.override("en"):
        same = [t for t in texts if translation.gettext(t) == t and t not in ("Description", "Public", "SIREN")]
    assert same == []


def visible_text(html: str) -> str:
    """What a reader sees or hears: the text between tags, and the titles, labels and placeholders of elements."""
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    attributes = re.findall(r'\b(?:title|aria-label|alt|placeholder)="([^"]*)"', html)
    text = unescape(re.sub(r"<[^>]+>", " ", html) + " " + " ".join(attributes))
    return re.sub(r"\s+", " ", text.replace("\xa0", " ").replace("\u202f", " "))


def french_sentences() -> list[str]:
    """The catalogue's French strings that read as sentences and differ in English, placeholders cut out."""
    found = set()
    for entry in EN:
        if entry["msgstr" if "msgstr" in entry else "msgstr[0]"] == entry["msgid"]:
            continue
        for piece in PLACEHOLDER_RE.split(entry["msgid"]):
            piece = re.sub(r"\s+", " ", piece).strip(" .,:;()—«»")
            if len(piece) >= 12 and " " in piece:
                found.add(piece)
    return sorted(found)


FRENCH_SENTENCES = french_sentences()


def french_left(page: str) -> list[str]:
    for allowed in ALLOWED_FRENCH:
        page = page.replace(allowed, " ")
    words = [w for w in FRENCH_TELLTALES if re.search(rf"(?<!\w){re.escape(w)}(?!\w)", page)]
    return words + [s for s in FRENCH_SENTENCES if s in page]


@pytest.fixture
def programme(geo_slice):
    return make_programme()


@pytest.fixture
def english(client):
    """A visitor who picked English with the footer's language switcher."""
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert response.status_code == 302
    return client


PUBLIC_PAGES = [
    "/",
    "/territoires/",
    "/territoires/ti-4401/",
    "/projets/",
    "/projets/P-0001/",
    "/tableaux-de-bord/",
    "/tableaux-de-bord/region/44/",
    "/tableaux-de-bord/territoire/ti-4401/",
    "/compte/connexion/",
    "/compte/mot-de-passe/",
]
TEAM_PAGES = [
    "/espace/",
    "/espace/import/",
    "/espace/territoires/ti-4401/plan/",
    "/espace/territoires/ti-4401/gouvernance/",
    "/espace/projets/P-0001/",
    "/espace/projets/P-0001/financements/",
]


@pytest.mark.django_db
def test_public_pages_in_english_show_no_french_interface_text(english, programme):
    for url in PUBLIC_PAGES:
        response = english.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert '<html lang="en"' in html, url
        assert french_left(visible_text(html)) == [], url
    # A figure of the dashboard opens its list of records, also in English.
    records = re.search(r'href="(/tableaux-de-bord/liste/\?[^"]+)"', english.get("/tableaux-de-bord/").content.decode())
    response = english.get(unescape(records.group(1)))
    assert response.status_code == 200
    assert french_left(visible_text(response.content.decode())) == []


@pytest.mark.django_db
def test_a_missing_page_in_english(english, programme):
    response = english.get("/territoires/ti-9999/")
    assert response.status_code == 404
    assert "Page not found" in visible_text(response.content.decode())


@pytest.mark.django_db
def test_workspace_pages_of_a_territory_team_in_english(english, programme):
    english.force_login(create_or_update_user("equipe@nord-lorraine.fr", "territory_team", "ti-4401")[0])
    for url in TEAM_PAGES:
        response = english.get(url)
        assert response.status_code == 200, url
        assert french_left(visible_text(response.content.decode())) == [], url


@pytest.mark.django_db
def test_french_stays_the_default_and_the_switcher_brings_it_back(client, programme):
    page = visible_text(client.get("/", HTTP_ACCEPT_LANGUAGE="en").content.decode())
    assert "Accueil" in page and "Home" not in page.replace("Homepage", "")
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert "Tableaux de bord" not in visible_text(client.get("/").content.decode())
    client.post("/i18n/setlang/", {"language": "fr", "next": "/"})
    assert "Tableaux de bord" in visible_text(client.get("/").content.decode())


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("query", "french", "english"),
    [
        ("zzzz", "0 territoire", "0 territories"),
        ("Nord", "1 territoire", "1 territory"),
        ("", "3 territoires", "3 territories"),
    ],
)
def test_counts_follow_each_language_s_plural_rule(client, programme, query, french, english):
    """French puts 0 in the singular, English in the plural."""
    assert re.search(
        rf"(?<!\d){french}(?!\w)", visible_text(client.get("/territoires/", {"q": query}).content.decode())
    )
    client.post("/i18n/setlang/", {"language": "en", "next": "/"})
    assert re.search(
        rf"(?<!\d){english}(?!\w)", visible_text(client.get("/territoires/", {"q": query}).content.decode())
    )
