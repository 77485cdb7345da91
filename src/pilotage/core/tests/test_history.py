"""History entries: JSON snapshots of the fields that matter, who made the change, from where and why."""

import datetime
from decimal import Decimal

import pytest

from pilotage.accounts.models import User
from pilotage.core.history import build_change, history_of, record_change, snapshot, to_json
from pilotage.core.models import ChangeLog
from pilotage.geo.models import Epci, Region
from pilotage.programme.models import Territory

pytestmark = pytest.mark.django_db


@pytest.fixture
def territory():
    region = Region.objects.create(code="44", name="Grand Est")
    territory = Territory.objects.create(code="ti-4405", name="Fensch", region=region)
    for siren in ("245701362", "245701222"):
        territory.epcis.add(Epci.objects.create(siren=siren, name=siren, kind="CA"))
    return territory


def test_snapshot_holds_plain_json_with_relations_as_keys(territory):
    territory.governance_installed_on = datetime.date(2019, 3, 12)
    assert snapshot(territory, ["code", "region", "governance_installed_on", "epcis"]) == {
        "code": "ti-4405",
        "region": "44",
        "governance_installed_on": "2019-03-12",
        "epcis": ["245701222", "245701362"],
    }
    assert to_json({"amount": Decimal("1200.50")}) == {"amount": "1200.50"}


def test_record_change_keeps_who_where_why_and_both_states(territory):
    user = User.objects.create_user("pilote@grandest.fr", "pilote@grandest.fr", "x")
    before = snapshot(territory, ["name", "epcis"])
    territory.name = "Vallée de la Fensch"
    territory.save()
    record_change(
        territory, ChangeLog.Action.UPDATE, before, snapshot(territory, ["name", "epcis"]), user=user,
        source=ChangeLog.Source.WEB, reason="Nom officiel",
    )  # fmt: skip
    record_change(territory, ChangeLog.Action.UPDATE, None, {}, source=ChangeLog.Source.IMPORT, user_label="import")

    first, second = history_of(territory)
    assert (first.user, first.user_label, first.source, first.reason) == (
        user,
        "pilote@grandest.fr",
        "web",
        "Nom officiel",
    )
    assert (first.before["name"], first.after["name"]) == ("Fensch", "Vallée de la Fensch")
    assert first.object_repr == "Vallée de la Fensch"
    assert (second.user, second.user_label) == (None, "import")


def test_build_change_is_unsaved_for_bulk_writes(territory):
    entry = build_change(territory, ChangeLog.Action.CREATE, None, {"code": "ti-4405"}, source=ChangeLog.Source.SYSTEM)
    assert entry.pk is None
    ChangeLog.objects.bulk_create([entry])
    assert history_of(territory).get().after == {"code": "ti-4405"}
