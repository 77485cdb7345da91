"""Triggers marking a territory as changed in the same transaction as any write to its records (stats/ledger.py).

SQLite: row triggers. PostgreSQL: statement triggers reading the transition tables (one insert per statement).
Existing territories are marked as changed: the totals are computed at the first read (or `pilotage refresh_figures`).
"""

from django.db import migrations

# table -> SQL giving the territory of a row `r`
WATCHED = {
    "programme_territory": "r.id",
    "programme_territory_phases": "r.territory_id",
    "programme_contract": "r.territory_id",
    "programme_actionplan": "r.territory_id",
    "projects_project": "r.territory_id",
    "projects_projectstatuschange": "(SELECT p.territory_id FROM projects_project p WHERE p.id = r.project_id)",
    "projects_project_themes": "(SELECT p.territory_id FROM projects_project p WHERE p.id = r.project_id)",
    "projects_fundingline": "(SELECT p.territory_id FROM projects_project p WHERE p.id = r.project_id)",
}
# A theme's code is a figure key: renaming it changes the figures of the territories having projects on it.
THEME_TERRITORIES = (
    "SELECT DISTINCT p.territory_id FROM projects_project p JOIN projects_project_themes pt ON pt.project_id = p.id "
    "WHERE pt.theme_id = {row}.id"
)
EVENTS = ("INSERT", "UPDATE", "DELETE")


def _sqlite(table, expr, event):
    rows = {"INSERT": ["NEW"], "UPDATE": ["OLD", "NEW"], "DELETE": ["OLD"]}[event]
    body = " ".join(
        f"INSERT INTO stats_changedterritory (territory_id) SELECT t FROM (SELECT {expr.replace('r.', f'{row}.')} AS t) "
        "WHERE t IS NOT NULL AND NOT EXISTS (SELECT 1 FROM stats_changedterritory c WHERE c.territory_id = t);"
        for row in rows
    )
    return f"CREATE TRIGGER stats_mark_{table}_{event.lower()} AFTER {event} ON {table} FOR EACH ROW BEGIN {body} END"


# Always a new row: a writer never waits for another writer or for a refresh (which deletes the rows it read).
UPSERT_PG = "INSERT INTO stats_changedterritory (territory_id) SELECT DISTINCT t FROM ({rows}) s WHERE t IS NOT NULL"


def _postgresql(table, expr, event):
    name = f"stats_mark_{table}_{event.lower()}"
    tables = {"INSERT": ["new_rows"], "UPDATE": ["old_rows", "new_rows"], "DELETE": ["old_rows"]}[event]
    rows = " UNION ".join(f"SELECT {expr} AS t FROM {t} r" for t in tables)
    referencing = {
        "INSERT": "NEW TABLE AS new_rows",
        "UPDATE": "OLD TABLE AS old_rows NEW TABLE AS new_rows",
        "DELETE": "OLD TABLE AS old_rows",
    }[event]
    return [
        f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
        f"{UPSERT_PG.format(rows=rows)}; RETURN NULL; END $$",
        f"CREATE TRIGGER {name} AFTER {event} ON {table} REFERENCING {referencing} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {name}()",
    ]


def statements(vendor):
    out = []
    for table, expr in WATCHED.items():
        for event in EVENTS:
            out += [_sqlite(table, expr, event)] if vendor == "sqlite" else _postgresql(table, expr, event)
    if vendor == "sqlite":
        out.append(
            "CREATE TRIGGER stats_mark_programme_theme_update AFTER UPDATE OF code ON programme_theme FOR EACH ROW "
            "WHEN OLD.code <> NEW.code BEGIN INSERT INTO stats_changedterritory (territory_id) "
            f"{THEME_TERRITORIES.format(row='NEW')}; END"
        )
    else:
        rows = THEME_TERRITORIES.format(row="r").replace("p.territory_id", "p.territory_id AS t", 1)
        rows = rows.replace("WHERE pt.theme_id = r.id", "JOIN new_rows r ON pt.theme_id = r.id")
        out += [
            "CREATE FUNCTION stats_mark_programme_theme_update() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            f"{UPSERT_PG.format(rows=rows)}; RETURN NULL; END $$",
            "CREATE TRIGGER stats_mark_programme_theme_update AFTER UPDATE ON programme_theme "
            "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT "
            "EXECUTE FUNCTION stats_mark_programme_theme_update()",
        ]
    out.append("INSERT INTO stats_changedterritory (territory_id) SELECT id FROM programme_territory")
    return out


def drop_statements(vendor):
    names = [f"stats_mark_{table}_{event.lower()}" for table in WATCHED for event in EVENTS]
    names.append("stats_mark_programme_theme_update")
    if vendor == "sqlite":
        return [f"DROP TRIGGER IF EXISTS {name}" for name in names]
    tables = {f"stats_mark_{table}_{event.lower()}": table for table in WATCHED for event in EVENTS}
    tables["stats_mark_programme_theme_update"] = "programme_theme"
    return [f"DROP TRIGGER IF EXISTS {n} ON {tables[n]}; DROP FUNCTION IF EXISTS {n}()" for n in names]


def create(apps, schema_editor):
    for sql in statements(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


def drop(apps, schema_editor):
    for sql in drop_statements(schema_editor.connection.vendor):
        schema_editor.execute(sql, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("stats", "0001_initial"),
        ("programme", "0004_figures_indexes"),
        ("projects", "0002_figures_indexes"),
    ]

    operations = [migrations.RunPython(create, drop)]
