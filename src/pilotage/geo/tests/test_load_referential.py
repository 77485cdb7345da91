"""The shipped referential loads completely, idempotently, with the right memberships and usable EPCI shapes."""

import gzip
import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from pilotage.geo.models import Commune, Department, Epci, Region
from pilotage.geo.services import REFERENTIAL_FILE, load_referential

METZ, METZ_METROPOLE = "57463", "200039865"
METZ_TOWN_HALL = (6.1757, 49.1197)  # longitude, latitude
SLICE = {"54", "57", "88", "67", "68"}


@pytest.fixture(scope="module")
def shipped() -> dict:
    """The committed file, read independently of the loader."""
    with gzip.open(REFERENTIAL_FILE, "rb") as handle:
        return json.loads(handle.read())


def snapshot() -> dict:
    return {
        model.__name__: sorted(model.objects.values_list(*[f.attname for f in model._meta.concrete_fields]), key=str)
        for model in (Region, Department, Epci, Commune)
    }


def point_in_ring(point: tuple[float, float], ring: list) -> bool:
    x, y = point
    inside = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:], strict=False):
        if (y1 > y) != (y2 > y) and x < x1 + (y - y1) * (x2 - x1) / (y2 - y1):
            inside = not inside
    return inside


def contains(geometry: dict, point: tuple[float, float]) -> bool:
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    return any(point_in_ring(point, p[0]) and not any(point_in_ring(point, h) for h in p[1:]) for p in polygons)


def assert_valid_polygon_geometry(geometry: dict) -> None:
    assert geometry["type"] in {"Polygon", "MultiPolygon"}
    polygons = [geometry["coordinates"]] if geometry["type"] == "Polygon" else geometry["coordinates"]
    assert polygons
    for polygon in polygons:
        assert polygon, "polygone sans anneau"
        for ring in polygon:
            assert len(ring) >= 4 and ring[0] == ring[-1], "anneau non fermé"
            for lon, lat in ring:
                assert -5.5 < lon < 10 and 41 < lat < 51.5, "hors de la France métropolitaine"


@pytest.mark.django_db
def test_full_load_gives_the_whole_referential_and_a_second_run_changes_nothing(geo_slice, shipped):
    report = load_referential()

    expected = {"regions": 26, "departments": 109, "epcis": 1255, "communes": 34969}  # COG 2026, see docs/data.md
    in_file = {
        key: len(shipped[name])
        for key, name in [
            ("regions", "regions"),
            ("departments", "departments"),
            ("epcis", "epci"),
            ("communes", "communes"),
        ]
    }
    in_db = {
        "regions": Region.objects.count(),
        "departments": Department.objects.count(),
        "epcis": Epci.objects.count(),
        "communes": Commune.objects.count(),
    }
    assert in_db == in_file == expected
    # Starting from the Grand Est slice, only the rest is created: nothing is duplicated.
    assert report.counts["communes"].created == expected["communes"] - geo_slice.counts["communes"].total

    before = snapshot()
    again = load_referential()
    assert not again.changed
    assert snapshot() == before


@pytest.mark.django_db
def test_every_metropolitan_epci_has_a_valid_polygon_shape():
    load_referential()
    overseas = set(Commune.objects.filter(department__code__gte="971").values_list("epci_id", flat=True))
    metropolitan = Epci.objects.exclude(siren__in=overseas)
    assert metropolitan.count() > 1200
    for siren, geometry in metropolitan.values_list("siren", "geometry"):
        assert geometry, f"EPCI {siren} sans contour"
        assert_valid_polygon_geometry(geometry)


@pytest.mark.django_db
def test_metz_is_in_metz_metropole_and_inside_its_shape(geo_slice):
    metz = Commune.objects.select_related("epci", "department__region").get(insee=METZ)
    assert metz.name == "Metz"
    assert (metz.epci.siren, metz.epci.name) == (METZ_METROPOLE, "Metz Métropole")
    assert (metz.department.code, metz.department.region.name) == ("57", "Grand Est")
    assert contains(metz.epci.geometry, METZ_TOWN_HALL)
    nancy = Epci.objects.get(communes__insee="54395")
    assert not contains(nancy.geometry, METZ_TOWN_HALL)


@pytest.mark.django_db
def test_slice_loads_the_epci_touching_the_departments_and_their_communes_only(geo_slice, shipped):
    epci_of = {insee: epci for insee, _name, _dep, epci, _pop in shipped["communes"]}
    expected_epcis = {epci for insee, _n, dep, epci, _p in shipped["communes"] if dep in SLICE} - {None}
    expected_communes = {insee for insee, epci in epci_of.items() if epci in expected_epcis}

    assert Region.objects.count() == len(shipped["regions"])
    assert Department.objects.count() == len(shipped["departments"])
    assert set(Epci.objects.values_list("siren", flat=True)) == expected_epcis
    assert set(Commune.objects.values_list("insee", flat=True)) == expected_communes
    assert not Commune.objects.filter(insee="75056").exists()  # Paris
    assert Epci.objects.filter(geometry__isnull=True).count() == 0


@pytest.mark.django_db
def test_a_hand_edited_commune_is_restored_by_the_next_load(geo_slice):
    Commune.objects.filter(insee=METZ).update(name="Mets", epci=None)

    report = load_referential(SLICE)

    assert report.counts["communes"].updated == 1
    assert report.counts["epcis"].updated == 0
    metz = Commune.objects.get(insee=METZ)
    assert (metz.name, metz.epci_id) == ("Metz", METZ_METROPOLE)


@pytest.mark.django_db
def test_command_prints_french_counts_and_rejects_unknown_departments():
    out = StringIO()
    call_command("load_referential", "--departments", "57", stdout=out)
    assert "Régions : 26 (26 créé(e)s" in out.getvalue()
    assert f"Communes : {Commune.objects.count()} (" in out.getvalue()

    out = StringIO()
    call_command("load_referential", "--departments", "57", stdout=out)
    assert "rien n'a changé" in out.getvalue()

    with pytest.raises(CommandError, match="Départements inconnus : 99"):
        call_command("load_referential", "--departments", "57,99")
