"""Writing many rows whose keys nobody reads back (history entries, many-to-many links, status changes).

`insert_rows` stores exactly the column values `QuerySet.bulk_create` would (each field's `pre_save` then
`get_db_prep_save`, related objects' keys taken as bulk_create takes them), in one prepared statement run over all
the rows (`executemany`), without bulk_create's per-object query compilation: a 10,000-project import writes some
50,000 such rows. Unlike bulk_create, the objects are not given their primary keys.
"""

from __future__ import annotations

from collections.abc import Sequence

from django.db import connections, models, router


def insert_rows(objs: Sequence[models.Model], batch_size: int = 2000) -> None:
    if not objs:
        return
    model = type(objs[0])
    if any(obj.pk is not None for obj in objs):  # keys given: bulk_create's own path
        model.objects.bulk_create(objs, batch_size=batch_size)
        return
    opts = model._meta
    database = router.db_for_write(model)
    connection = connections[database]
    fields = [f for f in opts.concrete_fields if not f.generated and not (f.primary_key and _is_auto(f))]
    quote = connection.ops.quote_name
    sql = "INSERT INTO {} ({}) VALUES ({})".format(
        quote(opts.db_table), ", ".join(quote(f.column) for f in fields), ", ".join(["%s"] * len(fields))
    )
    with connection.cursor() as cursor:
        for start in range(0, len(objs), batch_size):
            rows = []
            for obj in objs[start : start + batch_size]:
                obj._prepare_related_fields_for_save(operation_name="bulk_create")
                rows.append([f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields])
            cursor.executemany(sql, rows)


def _is_auto(field: models.Field) -> bool:
    return isinstance(field, models.AutoField | models.BigAutoField | models.SmallAutoField)
