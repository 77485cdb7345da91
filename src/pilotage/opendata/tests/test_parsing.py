"""Cell parsers: every accepted spelling gives the value, every other one a French message naming it."""

import datetime
from decimal import Decimal

import pytest

from pilotage.opendata.parsing import (
    ParseError,
    TerritoryCode,
    parse_amount,
    parse_bool,
    parse_date,
    parse_id_ti,
    parse_insee_commune,
    parse_siren,
    siren_key_is_valid,
    split_codes,
)


@pytest.mark.parametrize("parse", [parse_date, parse_amount, parse_bool, parse_siren, parse_id_ti, parse_insee_commune])
@pytest.mark.parametrize("empty", [None, "", "   ", "\u00a0"])
def test_an_empty_cell_is_no_value(parse, empty):
    assert parse(empty) is None


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2019-03-12", datetime.date(2019, 3, 12)),
        (" 12/03/2019 ", datetime.date(2019, 3, 12)),
        ("2/3/2019", datetime.date(2019, 3, 2)),
        ("2019-03-12 00:00:00", datetime.date(2019, 3, 12)),
        ("2019-03-12T10:30", datetime.date(2019, 3, 12)),
        ("29/02/2024", datetime.date(2024, 2, 29)),
        (datetime.date(2019, 3, 12), datetime.date(2019, 3, 12)),
        (datetime.datetime(2019, 3, 12, 14, 5), datetime.date(2019, 3, 12)),
    ],
)
def test_dates(value, expected):
    assert parse_date(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("31/02/2024", "La date « 31/02/2024 » n'existe pas."),
        ("2023-02-29", "La date « 2023-02-29 » n'existe pas."),
        ("2019-13-01", "La date « 2019-13-01 » n'existe pas."),
        ("12/03/19", "« 12/03/19 » n'est pas une date (attendu : AAAA-MM-JJ ou JJ/MM/AAAA)."),
        ("12 mars 2019", "« 12 mars 2019 » n'est pas une date"),
        ("03/12/1019", "La date « 03/12/1019 » n'est pas plausible"),
        (43536, "« 43536 » n'est pas une date"),
        (datetime.time(10, 30), "n'est pas une date"),
    ],
)
def test_wrong_dates_are_named_in_the_message(value, message):
    with pytest.raises(ParseError) as caught:
        parse_date(value)
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1200000, Decimal("1200000")),
        (1200000.5, Decimal("1200000.50")),
        (0.1 + 0.2, Decimal("0.30")),
        ("1 200 000,50 €", Decimal("1200000.50")),
        ("1\u00a0200\u00a0000,50\u00a0€", Decimal("1200000.50")),
        ("1\u202f200\u202f000,50 €", Decimal("1200000.50")),
        ("1.200.000,50", Decimal("1200000.50")),
        ("1.200.000", Decimal("1200000")),
        ("1,200,000.50", Decimal("1200000.50")),
        ("1200000.5", Decimal("1200000.5")),
        ("1 200,5 EUR", Decimal("1200.5")),
        ("€ 350", Decimal("350")),
        ("0,75", Decimal("0.75")),
        ("-1 500", Decimal("-1500")),
        ("0.125", None),  # three decimals: refused below
    ],
)
def test_amounts(value, expected):
    if expected is None:
        with pytest.raises(ParseError, match="plus de deux décimales"):
            parse_amount(value)
    else:
        assert parse_amount(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("1.200", "Le montant « 1.200 » est ambigu : écrivez 1200 ou 1,200."),
        ("douze", "« douze » n'est pas un montant (exemple : 1 200 000,50 €)."),
        ("12-3", "n'est pas un montant"),
        ("1,2,3.4.5", "n'est pas un montant"),
        (True, "n'est pas un montant"),
        ("1 000 000 000 000", "est trop grand"),
        (float("nan"), "n'est pas un montant"),
    ],
)
def test_wrong_amounts(value, message):
    with pytest.raises(ParseError) as caught:
        parse_amount(value)
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("oui", True),
        ("OUI", True),
        (" Vrai ", True),
        ("true", True),
        ("1", True),
        (1, True),
        (1.0, True),
        (True, True),
        ("non", False),
        ("Faux", False),
        ("FALSE", False),
        ("0", False),
        (0, False),
        (False, False),
    ],
)
def test_booleans(value, expected):
    assert parse_bool(value) is expected


@pytest.mark.parametrize("value", ["peut-être", 2, "ouais"])
def test_wrong_booleans(value):
    with pytest.raises(ParseError, match=f"« {value} » n'est pas une valeur oui/non"):
        parse_bool(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("200039865", "200039865"),
        ("200 039 865", "200039865"),
        ("200\u00a0039\u00a0865", "200039865"),
        (245701222, "245701222"),
        (245701222.0, "245701222"),
        ("356000000", "356000000"),
    ],
)
def test_sirens(value, expected):
    assert parse_siren(value) == expected


def test_siren_key():
    assert siren_key_is_valid("200039865")
    assert not siren_key_is_valid("200039866")


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("200039866", "Le SIREN « 200039866 » est invalide (clé de contrôle erronée)."),
        ("20003986", "Le SIREN « 20003986 » doit comporter 9 chiffres."),
        ("2000398655", "doit comporter 9 chiffres"),
        ("20003986A", "doit comporter 9 chiffres"),
    ],
)
def test_wrong_sirens(value, message):
    with pytest.raises(ParseError) as caught:
        parse_siren(value)
    assert message in caught.value.message


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("ti-4405", TerritoryCode("ti-4405", "44")),
        (" TI-4405 ", TerritoryCode("ti-4405", "44")),
        ("ti-0101", TerritoryCode("ti-0101", "01")),
        ("ti-9403", TerritoryCode("ti-9403", "94")),
    ],
)
def test_territory_codes_give_their_region(value, expected):
    assert parse_id_ti(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ti-44O5", "L'identifiant « ti-44O5 » n'est pas de la forme ti-RRNN (ex. ti-4405)."),
        ("4405", "n'est pas de la forme ti-RRNN"),
        ("ti-44051", "n'est pas de la forme ti-RRNN"),
        ("ti-9901", "L'identifiant « ti-9901 » désigne une région inconnue (code INSEE 99)."),
        ("ti-2301", "région inconnue (code INSEE 23)"),  # a pre-2016 region
    ],
)
def test_wrong_territory_codes(value, message):
    with pytest.raises(ParseError) as caught:
        parse_id_ti(value)
    assert message in caught.value.message


def test_territory_code_regions_can_be_the_loaded_ones():
    assert parse_id_ti("ti-4405", regions={"44"}).region == "44"
    with pytest.raises(ParseError, match="région inconnue"):
        parse_id_ti("ti-8401", regions={"44"})


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("57463", "57463"),
        ("2a004", "2A004"),
        ("2B033", "2B033"),
        (1001, "01001"),
        (57463.0, "57463"),
        ("01001", "01001"),
    ],
)
def test_insee_commune_codes(value, expected):
    assert parse_insee_commune(value) == expected


@pytest.mark.parametrize("value", ["5746", "574630", "2C004", "ABCDE"])
def test_wrong_insee_commune_codes(value):
    with pytest.raises(ParseError, match=f"Le code commune INSEE « {value} » doit comporter 5 caractères"):
        parse_insee_commune(value)


def test_split_codes():
    assert split_codes(" ti-4405 ; ti-4406;;ti-4405 ") == ["ti-4405", "ti-4406"]
    assert split_codes(None) == []
