"""A writer process for test_concurrent_writers.py: `python writer.py hold|write ID_PROJET MARK [SECONDS]`.

`hold` locks the project in a transaction, appends MARK to its description, says `locked` and keeps the transaction
open SECONDS seconds; `write` says `ready`, waits for a line on its input, then appends MARK in a transaction of its
own and prints how long that took (JSON)."""

import json
import sys
import time

import django

django.setup()

from django.db import transaction  # noqa: E402

from pilotage.projects.models import Project  # noqa: E402


def append(id_projet: str, mark: str) -> None:
    project = Project.objects.select_for_update().get(id_projet=id_projet)
    project.description = f"{project.description} {mark}"
    project.save(update_fields=["description"])


if __name__ == "__main__":
    action, id_projet, mark = sys.argv[1:4]
    if action == "write":
        print("ready", flush=True)
        sys.stdin.readline()
    started = time.perf_counter()
    with transaction.atomic():
        append(id_projet, mark)
        if action == "hold":
            print("locked", flush=True)
            time.sleep(float(sys.argv[4]))
    print(json.dumps({"seconds": time.perf_counter() - started}), flush=True)
