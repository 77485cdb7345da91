"""Display helpers of the project pages: amounts in euros the French way, status badges."""

from decimal import ROUND_HALF_UP, Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()

NBSP = "\N{NO-BREAK SPACE}"

# DSFR badge colour of each status: open statuses in neutral or blue tones, the outcomes in green and red.
STATUS_BADGES = {
    "idea": "fr-badge--purple-glycine",
    "maturing": "fr-badge--yellow-tournesol",
    "ready": "fr-badge--blue-cumulus",
    "in_progress": "fr-badge--info fr-badge--no-icon",
    "completed": "fr-badge--success",
    "abandoned": "fr-badge--error",
}


@register.filter
def number(value, decimals: int | None = None) -> str:
    """A number grouped by thousands in the current language ('1 200 000' in French), rounded to `decimals`
    (by default: cents, shown only when not zero)."""
    if value is None or value == "":
        return ""
    value = Decimal(str(value))
    if decimals is None:
        decimals = 0 if value == value.to_integral_value() else 2
    rounded = value.quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    return number_format(rounded, decimals, force_grouping=True)


@register.filter
def euros(value) -> str:
    """'1 200 000 €', '1 200 000,50 €' in French (no-break spaces, so that an amount never wraps)."""
    text = number(value)
    return f"{text}{NBSP}€" if text else ""


@register.filter
def status_badge(status: str) -> str:
    return STATUS_BADGES.get(status, "")


@register.filter
def share(measured, target) -> str:
    """Measured as a percentage of target ('85 %'), or '' when either is missing or the target is zero."""
    if measured is None or not target:
        return ""
    return f"{number(Decimal(measured) * 100 / Decimal(target), 0)}{NBSP}%"
