"""Types of the API's parameters and body fields that accept exactly what the OpenAPI document says.

pydantic's lax mode would take more than the document shows (a date as a Unix timestamp `"1e3"`, a boolean as
`"yes"`, a number as a string): a client reading the document must be able to predict every answer, and a fuzzer
generating requests from it finds no gap between the two (`make fuzz`, docs/security.md).
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal
from typing import Annotated, Any

from django.utils.translation import gettext as _
from pydantic import BeforeValidator, Field, WithJsonSchema

# A calendar date AAAA-MM-JJ (years 0001 to 9999, 29 February of leap years only): the pattern tells the OpenAPI
# document's readers exactly which values are taken.
_YEAR = r"(?:[1-9][0-9]{3}|0[1-9][0-9]{2}|00[1-9][0-9]|000[1-9])"
_LEAP_YEAR = r"(?:[0-9]{2}(?:0[48]|[2468][048]|[13579][26])|(?:0[48]|[2468][048]|[13579][26])00)"
DATE_PATTERN = (
    rf"(?:{_YEAR}-(?:(?:0[13578]|1[02])-(?:0[1-9]|[12][0-9]|3[01])|(?:0[469]|11)-(?:0[1-9]|[12][0-9]|30)"
    rf"|02-(?:0[1-9]|1[0-9]|2[0-8]))|{_LEAP_YEAR}-02-29)"
)
TIME_PATTERN = r"(?:[01][0-9]|2[0-3]):[0-5][0-9](?::[0-5][0-9])?"
ISO_DATE = re.compile(rf"^{DATE_PATTERN}$")
# `as_of` of a single record: a date (end of that day) or a date and a time without offset (Paris time).
AS_OF_PATTERN = rf"^{DATE_PATTERN}(?:[T ]{TIME_PATTERN})?$"

MAX_AMOUNT = Decimal("1e12")  # the models' amounts: 14 digits, 2 of them after the decimal point


def _iso_date(value: Any) -> Any:
    if isinstance(value, datetime.date) and not isinstance(value, datetime.datetime):
        return value
    if not isinstance(value, str) or not ISO_DATE.match(value):
        raise ValueError(_("Doit être une date au format AAAA-MM-JJ."))
    return value


def _number(value: Any) -> Any:
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise ValueError(_("Doit être un nombre."))
    return value


# A date written AAAA-MM-JJ, nothing else (pydantic alone would take a number of seconds since 1970).
IsoDate = Annotated[datetime.date, BeforeValidator(_iso_date)]
# An amount in euros: a JSON number (not a string), from 0 to under a thousand billion; stored to the cent.
Amount = Annotated[
    Decimal,
    BeforeValidator(_number),
    Field(ge=0, lt=MAX_AMOUNT),
    WithJsonSchema({"type": "number", "minimum": 0, "exclusiveMaximum": float(MAX_AMOUNT)}),
]
