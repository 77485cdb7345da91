"""Running totals of the national figures by date (see ledger.py): derived data, rebuilt from the records at will.

Database triggers (migration 0002) mark a territory as changed in the same transaction as any write to its records,
so the totals are brought up to date before they are read and can never serve a figure the records do not give.
"""

from django.db import models


class ChangedTerritory(models.Model):
    """A territory whose records changed since its contribution to the totals was last computed.

    Written by the triggers only. Append-only on PostgreSQL (two writers never wait for each other; a refresh deletes
    the rows it read); one row per territory on SQLite, whose writers take turns anyway.
    """

    territory_id = models.BigIntegerField(db_index=True)


class TerritoryContribution(models.Model):
    """What a territory last added to the totals (compressed), so that a refresh adds only the difference."""

    territory_id = models.BigIntegerField(primary_key=True)
    data = models.BinaryField()


class FigureNode(models.Model):
    """One node of a Fenwick tree over days: the sum of a figure's changes over a power-of-two run of days.

    `series` is the phase and the visibility ("<phase id>:a" every project, "<phase id>:x" the non-public ones; "" the
    territory figures over all phases); `key` is the figure ("p", "st:ready", "th:<code>", "fr:<funder id>" …).
    """

    series = models.CharField(max_length=24)
    key = models.CharField(max_length=64)
    node = models.IntegerField()
    value = models.BigIntegerField(default=0)

    class Meta:
        # Read by (series, node): the nodes of a date, every key at once.
        constraints = [models.UniqueConstraint(fields=["series", "node", "key"], name="figurenode_unique")]
