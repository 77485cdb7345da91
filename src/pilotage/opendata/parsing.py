"""Cell parsers shared by every import: each returns a clean value or raises `ParseError` with a French message.

An empty cell (None or blank text) parses to None: whether a column is required is the importer's business.
The formats are the ones PRODUCT.md pins for files: dates as YYYY-MM-DD, DD/MM/YYYY or spreadsheet dates; amounts as
numbers or French text (`1 200 000,50 €`); booleans as oui/non/true/false/1/0; official codes (SIREN with its Luhn key,
`id_ti`, INSEE commune code).
"""

from __future__ import annotations

import datetime
import math
import re
from collections.abc import Collection
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from typing import Any, NamedTuple

from django.utils.translation import gettext as _

from pilotage.core.text import fold


class ParseError(ValueError):
    """A cell that does not hold what its column expects; `message` is French and names the value."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


# INSEE codes of the regions (COG): the five overseas regions and the thirteen of metropolitan France. Territories
# only exist in regions, so the overseas collectivities (975, 977…) are not valid in an `id_ti`.
INSEE_REGION_CODES = frozenset(
    {"01", "02", "03", "04", "06", "11", "24", "27", "28", "32", "44", "52", "53", "75", "76", "84", "93", "94"}
)

# Plausibility bounds: a year outside them is a typo (20019, 1019), not a programme date.
MIN_YEAR, MAX_YEAR = 1900, 2100
# Amounts are stored with 14 digits, 2 of them decimals.
MAX_AMOUNT = Decimal("1e12")

_ISO_DATE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[T ]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_FRENCH_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})(?: \d{1,2}:\d{2}(?::\d{2})?)?$")
# Every kind of space a spreadsheet or a word processor puts between thousands.
_SPACES = re.compile(r"[\s\u00a0\u202f\u2007\u2009']+")
_AMOUNT = re.compile(r"^[+-]?(\d+([.,]\d*)?|[.,]\d+)$")
_ID_TI = re.compile(r"^ti-(\d{2})(\d{2})$")
_INSEE_COMMUNE = re.compile(r"^(\d{5}|2[AB]\d{3})$")

_TRUE = {"oui", "true", "vrai", "1", "yes"}
_FALSE = {"non", "false", "faux", "0", "no"}


def is_empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def _text(value: Any) -> str:
    """A cell as text; integral floats lose their '.0' (a code typed in a number cell)."""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value).strip()


def parse_date(value: Any) -> datetime.date | None:
    if is_empty(value):
        return None
    if isinstance(value, datetime.datetime):
        return _plausible(value.date(), value)
    if isinstance(value, datetime.date):
        return _plausible(value, value)
    if not isinstance(value, str):
        raise ParseError(_("« %(value)s » n'est pas une date (attendu : AAAA-MM-JJ ou JJ/MM/AAAA).") % {"value": value})
    text = value.strip()
    if match := _ISO_DATE.match(text):
        year, month, day = (int(part) for part in match.groups())
    elif match := _FRENCH_DATE.match(text):
        day, month, year = (int(part) for part in match.groups())
    else:
        raise ParseError(_("« %(value)s » n'est pas une date (attendu : AAAA-MM-JJ ou JJ/MM/AAAA).") % {"value": text})
    try:
        parsed = datetime.date(year, month, day)
    except ValueError:
        raise ParseError(_("La date « %(value)s » n'existe pas.") % {"value": text}) from None
    return _plausible(parsed, text)


def _plausible(parsed: datetime.date, original: Any) -> datetime.date:
    if not MIN_YEAR <= parsed.year <= MAX_YEAR:
        raise ParseError(
            _("La date « %(value)s » n'est pas plausible (année hors de %(min)s–%(max)s).")
            % {"value": original, "min": MIN_YEAR, "max": MAX_YEAR}
        )
    return parsed


def parse_amount(value: Any) -> Decimal | None:
    """Euros with at most two decimals. French text is read as such: the comma is the decimal mark."""
    if is_empty(value):
        return None
    if isinstance(value, bool):
        raise ParseError(_("« %(value)s » n'est pas un montant.") % {"value": value})
    if isinstance(value, int):
        amount = Decimal(value)
    elif isinstance(value, float):
        if not math.isfinite(value):
            raise ParseError(_("« %(value)s » n'est pas un montant.") % {"value": value})
        # A spreadsheet number is binary: 0.1 + 0.2 must give 0.30, not be refused for its 17 decimals.
        amount = Decimal(repr(value)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    elif isinstance(value, Decimal):
        amount = value
    else:
        amount = _amount_from_text(str(value).strip())
    if not amount.is_finite() or abs(amount) >= MAX_AMOUNT:
        raise ParseError(_("Le montant « %(value)s » est trop grand.") % {"value": value})
    if amount.as_tuple().exponent < -2:
        raise ParseError(_("Le montant « %(value)s » a plus de deux décimales.") % {"value": value})
    return amount


def _amount_from_text(text: str) -> Decimal:
    compact = _SPACES.sub("", re.sub(r"^€|(€|eur(os?)?)$", "", text, flags=re.IGNORECASE).strip())
    if "." in compact and "," in compact:
        # The last of the two marks is the decimal one: 1.200.000,50 and 1,200,000.50.
        decimal_mark = "," if compact.rfind(",") > compact.rfind(".") else "."
        thousands = "." if decimal_mark == "," else ","
        compact = compact.replace(thousands, "")
    elif compact.count(",") > 1 or compact.count(".") > 1:
        compact = compact.replace(",", "").replace(".", "")  # several marks can only be thousands separators
    elif re.fullmatch(r"[+-]?[1-9]\d{0,2}\.\d{3}", compact):
        # "1.200" is 1200 to a French reader and 1.2 to a program: refuse to guess.
        raise ParseError(
            _("Le montant « %(value)s » est ambigu : écrivez %(plain)s ou %(decimal)s.")
            % {"value": text, "plain": compact.replace(".", ""), "decimal": compact.replace(".", ",")}
        )
    compact = compact.replace(",", ".")
    if not _AMOUNT.match(compact):
        raise ParseError(_("« %(value)s » n'est pas un montant (exemple : 1 200 000,50 €).") % {"value": text})
    try:
        return Decimal(compact)
    except InvalidOperation:
        raise ParseError(
            _("« %(value)s » n'est pas un montant (exemple : 1 200 000,50 €).") % {"value": text}
        ) from None


def parse_bool(value: Any) -> bool | None:
    if is_empty(value):
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float) and value in (0, 1):
        return bool(value)
    folded = fold(_text(value))
    if folded in _TRUE:
        return True
    if folded in _FALSE:
        return False
    raise ParseError(_("« %(value)s » n'est pas une valeur oui/non.") % {"value": value})


def siren_key_is_valid(digits: str) -> bool:
    """The Luhn check that the ninth digit of a SIREN carries."""
    total = 0
    for position, char in enumerate(reversed(digits)):
        digit = int(char) * (2 if position % 2 else 1)
        total += digit - 9 if digit > 9 else digit
    return total % 10 == 0


def parse_siren(value: Any) -> str | None:
    if is_empty(value):
        return None
    text = _SPACES.sub("", _text(value))
    if isinstance(value, int | float) and text.isdigit():
        text = text.zfill(9)  # a number cell loses leading zeros
    if not re.fullmatch(r"\d{9}", text):
        raise ParseError(_("Le SIREN « %(value)s » doit comporter 9 chiffres.") % {"value": value})
    if not siren_key_is_valid(text):
        raise ParseError(_("Le SIREN « %(value)s » est invalide (clé de contrôle erronée).") % {"value": value})
    return text


class TerritoryCode(NamedTuple):
    code: str  # normalised: "ti-4405"
    region: str  # INSEE region code: "44"


def parse_id_ti(value: Any, regions: Collection[str] | None = None) -> TerritoryCode | None:
    """An ANCT territory code `ti-RRNN`, RR being its region's INSEE code, among `regions` (default: all of France)."""
    if is_empty(value):
        return None
    text = _text(value).lower().replace(" ", "")
    match = _ID_TI.match(text)
    if not match:
        raise ParseError(
            _("L'identifiant « %(value)s » n'est pas de la forme ti-RRNN (ex. ti-4405).") % {"value": value}
        )
    region = match.group(1)
    if region not in (INSEE_REGION_CODES if regions is None else regions):
        raise ParseError(
            _("L'identifiant « %(value)s » désigne une région inconnue (code INSEE %(region)s).")
            % {"value": value, "region": region}
        )
    return TerritoryCode(text, region)


def parse_insee_commune(value: Any) -> str | None:
    """A commune's INSEE code: 5 characters, Corsica's starting with 2A or 2B."""
    if is_empty(value):
        return None
    text = _text(value).upper().replace(" ", "")
    if isinstance(value, int | float) and text.isdigit():
        text = text.zfill(5)  # 1001 in a number cell is Ain's 01001
    if not _INSEE_COMMUNE.match(text):
        raise ParseError(
            _("Le code commune INSEE « %(value)s » doit comporter 5 caractères (ex. 57463, 2A004).") % {"value": value}
        )
    return text


def split_codes(value: Any, separator: str = ";") -> list[str]:
    """The non-empty parts of a multi-valued cell ("ti-4405; ti-4406"), in order, without duplicates."""
    if is_empty(value):
        return []
    parts: list[str] = []
    for part in _text(value).split(separator):
        part = part.strip()
        if part and part not in parts:
            parts.append(part)
    return parts
