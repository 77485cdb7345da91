"""The fast paths that imports rely on store and return exactly what the plain paths did."""

import datetime
import json
import re
import unicodedata
from decimal import Decimal

import pytest
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model

from pilotage.core.bulk import insert_rows
from pilotage.core.history import build_change, to_json
from pilotage.core.models import ChangeLog
from pilotage.core.text import fold
from pilotage.geo.models import Region
from pilotage.programme.models import Territory

_SPACES = re.compile(r"\s+")


def fold_one_character_at_a_time(value: str | None) -> str:
    """`fold` as it was written before its fast paths."""
    if not value:
        return ""
    decomposed = unicodedata.normalize("NFKD", str(value))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped.replace("œ", "oe").replace("æ", "ae").lower()).strip()


@pytest.mark.parametrize(
    "text",
    [
        "Écologie  Industrielle",
        "Cœur de ville — Æther",
        "Saint-Étienne Métropole ; 1 200 000,50 €",
        "ﬁlière ½ ²",  # compatibility characters
        "Ångström naïve façade",
        "Bağcılar Łódź Øresund",  # marks and letters that NFKD keeps
        "Ελληνικά ά ή",  # Greek tonos
        "नमस्ते",  # Devanagari marks outside the Latin block
        "x\u0301\u0327 \u034f",  # stacked marks; the grapheme joiner (class 0) stays
        "plain ascii  text ",
        "",
        None,
    ],
)
def test_fold_gives_what_the_character_by_character_version_gave(text):
    assert fold(text) == fold_one_character_at_a_time(text)


def test_to_json_of_converted_data_is_an_equal_copy_and_converts_the_rest():
    native = {"title": "Usine", "themes": ["innover", "attirer"], "cost": "1200.50", "public": True, "n": None}
    copied = to_json(native)
    assert copied == native and copied is not native and copied["themes"] is not native["themes"]
    raw = {"on": datetime.date(2020, 1, 31), "amount": Decimal("12.30"), "codes": ("a", "b"), 3: "three"}
    assert to_json(raw) == json.loads(json.dumps(raw, cls=DjangoJSONEncoder))


@pytest.mark.django_db
def test_insert_rows_stores_what_bulk_create_stores():
    region = Region.objects.create(code="44", name="Grand Est")
    territory = Territory.objects.create(code="ti-4405", name="Fensch", region=region)
    states = [{"name": f"Fensch {n}", "on": datetime.date(2020, 1, n), "amount": Decimal(n)} for n in range(1, 6)]

    def entries() -> list[ChangeLog]:
        at = datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.UTC)
        made = [build_change(territory, "update", None, state, source="import", user_label="bench") for state in states]
        for entry in made:
            entry.at = at
        return made

    ChangeLog.objects.bulk_create(entries())
    insert_rows(entries())

    def stored(rows: list[Model]) -> list[tuple]:
        return [
            (e.at, e.content_type_id, e.object_pk, e.object_repr, e.action, e.before, e.after, e.source) for e in rows
        ]

    rows = list(ChangeLog.objects.order_by("pk"))
    assert len(rows) == 10
    assert stored(rows[:5]) == stored(rows[5:])
    assert rows[5].after == {"name": "Fensch 1", "on": "2020-01-01", "amount": "1"}


@pytest.mark.django_db
def test_insert_rows_gives_each_object_its_own_key_when_asked():
    region = Region.objects.create(code="44", name="Grand Est")
    territories = [Territory(code=f"ti-44{n:02}", name=f"Territoire {n}", region=region) for n in range(1, 121)]
    insert_rows(territories, batch_size=50, keys=True)
    assert {t.code: t.pk for t in territories} == dict(Territory.objects.values_list("code", "pk"))
    assert not any(t._state.adding for t in territories)
