"""Writing many new rows at once, for imports: the column values `QuerySet.bulk_create` would store, without its
per-object query compilation (on SQLite; other engines get bulk_create itself).

Each field's `pre_save` then `get_db_prep_save` give the values, related objects' keys are taken as bulk_create
takes them, and the rows go in multi-row statements. `insert_rows` gives the objects their primary keys (INSERT …
RETURNING, as bulk_create does on SQLite ≥ 3.35 and PostgreSQL) when asked to; otherwise (history entries,
many-to-many links, status changes: a 10,000-project import writes some 50,000 such rows) it runs one prepared
statement over all the rows and the objects are not given their keys.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, models, router


def insert_rows(objs: Sequence[models.Model], batch_size: int = 2000, *, keys: bool = False) -> None:
    if not objs:
        return
    model = type(objs[0])
    connection = connections[router.db_for_write(model)]
    keys_back = keys and connection.features.can_return_rows_from_bulk_insert
    # On PostgreSQL bulk_create already sends each batch as arrays (INSERT … SELECT FROM UNNEST): measured faster than
    # these statements there, so it is used as it is, as for objects that come with their keys.
    if connection.vendor != "sqlite" or any(obj.pk is not None for obj in objs) or (keys and not keys_back):
        model.objects.bulk_create(objs, batch_size=batch_size)
        return
    opts = model._meta
    fields = [f for f in opts.concrete_fields if not f.generated and not (f.primary_key and _is_auto(f))]
    quote = connection.ops.quote_name
    insert = f"INSERT INTO {quote(opts.db_table)} ({', '.join(quote(f.column) for f in fields)}) VALUES "
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    if keys_back:
        batch_size = min(batch_size, (connection.features.max_query_params or 65535) // len(fields))
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            batch = objs[start : start + batch_size]
            values = [_values(obj, fields, connection) for obj in batch]
            if not keys_back:
                cursor.executemany(insert + row, values)
                continue
            cursor.execute(
                insert + ", ".join([row] * len(batch)) + f" RETURNING {quote(opts.pk.column)}",
                [value for values_of_one in values for value in values_of_one],
            )
            for obj, (pk,) in zip(batch, cursor.fetchall(), strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = connection.alias


def _values(obj: models.Model, fields: list[models.Field], connection) -> list:
    obj._prepare_related_fields_for_save(operation_name="bulk_create")
    return [f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields]


def _is_auto(field: models.Field) -> bool:
    return isinstance(field, models.AutoField | models.BigAutoField | models.SmallAutoField)
