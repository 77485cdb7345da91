"""Writing many new rows at once, for imports: the column values `QuerySet.bulk_create` would store, without its
per-object query compilation.

Each field's `pre_save` then `get_db_prep_save` give the values, related objects' keys are taken as bulk_create
takes them, and the rows go in multi-row statements. `insert_rows` gives the objects their primary keys (INSERT …
RETURNING, as bulk_create does on SQLite ≥ 3.35 and PostgreSQL) when asked to; otherwise (history entries,
many-to-many links, status changes: a 10,000-project import writes some 50,000 such rows) the objects are not given
their keys (on SQLite: one prepared statement over all the rows).

A value is converted by its field only when it needs it: a Django field that gives back the very value it was given
for a `str`, `int`, `bool` or None (a text, a key, a flag) gives it back for every value of that type, so the
conversion is skipped for the next ones; a date is converted once per distinct date.

On PostgreSQL the rows go by `COPY … FROM STDIN` (psycopg formats them in C), their keys taken beforehand from the
table's sequence when asked for, in order, as the inserts would take them. Measured there on a 10,000-project import:
bulk_create's `INSERT … SELECT FROM UNNEST` spends most of its time in psycopg escaping array elements in Python, and
multi-row `VALUES` as much in psycopg parsing thousands of placeholders.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Sequence
from operator import attrgetter

from django.conf import settings
from django.db import connections, models, router

# Types whose conversion by a Django field, when it leaves one value as it is, leaves every value as it is.
_PLAIN_TYPES = (str, int, bool, type(None))


def insert_rows(objs: Sequence[models.Model], batch_size: int = 2000, *, keys: bool = False) -> None:
    if not objs:
        return
    model = type(objs[0])
    connection = connections[router.db_for_write(model)]
    keys_back = keys and connection.features.can_return_rows_from_bulk_insert
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.generated and not (f.primary_key and _is_auto(f))]
    if (
        connection.vendor not in ("sqlite", "postgresql")
        or any(obj.pk is not None for obj in objs)
        or (keys and not keys_back)
        or (keys and not _is_auto(opts.pk))
        or any(hasattr(f, "get_placeholder") for f in fields)
    ):
        model.objects.bulk_create(objs, batch_size=batch_size)
        return
    values_of = _row_values(model, fields, connection)
    if connection.vendor == "postgresql":
        _copy_rows(connection, model, fields, objs, values_of, keys=keys)
        return
    quote = connection.ops.quote_name
    insert = f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    if keys_back:
        batch_size = min(batch_size, (connection.features.max_query_params or 65535) // len(fields))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start : start + batch_size]
            values = [values_of(obj) for obj in batch]
            if not keys_back:
                cursor.executemany(insert + row, values)
                continue
            cursor.execute(
                insert + ", ".join([row] * len(batch)) + f" RETURNING {quote(opts.pk.column)}",
                [value for values_of_one in values for value in values_of_one],
            )
            _saved(batch, [pk for (pk,) in cursor.fetchall()], connection)


def _copy_rows(connection, model: type[models.Model], fields: list, objs: Sequence[models.Model], values_of, *, keys):
    """PostgreSQL: the rows in one COPY, with the keys the sequence gives when `keys`."""
    opts = model._meta
    quote = connection.ops.quote_name
    columns = [f.column for f in fields]
    rows = [values_of(obj) for obj in objs]
    pks = []
    with connection.cursor() as cursor:
        if keys:
            cursor.execute(
                "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                [quote(opts.db_table), opts.pk.column, len(objs)],
            )
            pks = sorted(pk for (pk,) in cursor.fetchall())
            columns.insert(0, opts.pk.column)
            rows = [[pk, *values] for pk, values in zip(pks, rows, strict=True)]
        statement = f"COPY {quote(opts.db_table)} ({', '.join(quote(column) for column in columns)}) FROM STDIN"
        with connection.wrap_database_errors, cursor.cursor.copy(statement) as copy:
            for values in rows:
                copy.write_row(values)
    if keys:
        _saved(objs, pks, connection)


def _saved(objs: Sequence[models.Model], pks: list, connection) -> None:
    for obj, pk in zip(objs, pks, strict=True):
        obj.pk = pk
        obj._state.adding = False
        obj._state.db = connection.alias


def _row_values(model: type[models.Model], fields: list[models.Field], connection) -> Callable[[models.Model], list]:
    """A function giving an object's column values, as `_prepare_related_fields_for_save` then each field's
    `get_db_prep_save(pre_save(obj, True))` give them."""
    set_on_save = [f for f in fields if not _stored_as_is(f)]  # auto_now dates, files: their pre_save sets them
    read = attrgetter(*[f.attname for f in fields])
    if len(fields) == 1:
        read = (lambda get: lambda obj: (get(obj),))(read)
    columns = [_Column(f, connection) for f in fields]
    relations = [(f.name, f.attname, f.target_field.attname) for f in model._meta.concrete_fields if f.is_relation]
    checked_by_django = bool(model._meta.private_fields)

    def values(obj: models.Model) -> list:
        # What bulk_create checks first (an unsaved related object, a key to take from a related object set
        # after it was saved): done by Django itself whenever a related object is there and disagrees.
        cache = obj._state.fields_cache
        if checked_by_django or (cache and any(_needs_django(obj, cache, *relation) for relation in relations)):
            obj._prepare_related_fields_for_save(operation_name="bulk_create")
        for field in set_on_save:
            field.pre_save(obj, True)
        # A value of a type its column passes as it is costs no call.
        return [
            value if type(value) in column.as_is else column.convert(value)
            for value, column in zip(read(obj), columns, strict=True)
        ]

    return values


def _needs_django(obj: models.Model, cache: dict, name: str, attname: str, target: str) -> bool:
    related = cache.get(name)
    return related is not None and (related.pk is None or getattr(obj, attname) != getattr(related, target))


def _stored_as_is(field: models.Field) -> bool:
    """Whether `pre_save` gives the attribute as it is (not a date set on save, not a file)."""
    if type(field).pre_save is models.Field.pre_save:
        return True
    return type(field) in (models.DateField, models.DateTimeField) and not (field.auto_now or field.auto_now_add)


class _Column:
    """A field's conversion to its column value; `as_is` learns the types it leaves as they are."""

    def __init__(self, field: models.Field, connection) -> None:
        self.field = field
        self.connection = connection
        self.as_is: set[type] = set()
        self.builtin = type(field).__module__.startswith("django.db.models.")
        self.dates: dict[datetime.date, object] = {}  # a file's dates repeat; equal dates are written alike
        # An aware datetime goes through the DateTimeField's layers unchanged until the backend adapts it.
        self.adapt_datetime = _datetime_adapter(connection) if type(field) is models.DateTimeField else None

    def convert(self, value):
        kind = type(value)
        if kind is datetime.date and self.builtin:
            converted = self.dates.get(value, self.dates)
            if converted is self.dates:
                converted = self.dates[value] = self.field.get_db_prep_save(value, self.connection)
            return converted
        if kind is datetime.datetime and self.adapt_datetime is not None and value.utcoffset() is not None:
            return self.adapt_datetime(value)
        converted = self.field.get_db_prep_save(value, self.connection)
        # A Django field that gives back the very text, number, flag or None it was given gives back every one.
        if self.builtin and kind in _PLAIN_TYPES and converted is value:
            self.as_is.add(kind)
        return converted


def _datetime_adapter(connection) -> Callable[[datetime.datetime], object]:
    if connection.vendor == "sqlite" and settings.USE_TZ:
        zone = connection.timezone
        # What the SQLite backend does (`make_naive` in the connection's zone, then `str`), in fewer calls.
        return lambda value: str(value.astimezone(zone).replace(tzinfo=None))
    return connection.ops.adapt_datetimefield_value


def _is_auto(field: models.Field) -> bool:
    return isinstance(field, models.AutoField | models.BigAutoField | models.SmallAutoField)
