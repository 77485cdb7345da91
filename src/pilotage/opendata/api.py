"""The published Table Schemas of the open-data files (the columns `import_*` reads and `export` writes)."""

from __future__ import annotations

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Path, Router
from ninja.errors import HttpError

from pilotage.core.errors import ErrorOut

from .schema import RESOURCES, table_schema

router = Router(tags=["données ouvertes"])


KEY = Path(..., description="Fichier décrit : " + ", ".join(f"`{key}`" for key in RESOURCES) + ".")


@router.get(
    "/schema/{key}.json",
    response={200: dict, 404: ErrorOut},
    summary="Schéma d'un fichier de données (Table Schema)",
    description=(
        "Le schéma (format Table Schema, avec les métadonnées de schema.data.gouv.fr) des fichiers CSV et XLSX "
        "que l'export produit et que l'import accepte : `projects` (projets), `funding` (plans de financement), "
        "`territories` (territoires et leur périmètre)."
    ),
    url_name="table-schema",
)
def get_table_schema(request: HttpRequest, key: str = KEY):
    resource = RESOURCES.get(key)
    if resource is None:
        known = ", ".join(f"{k}.json" for k in RESOURCES)
        message = _("Schéma inconnu : %(key)s (schémas publiés : %(known)s).") % {"key": key, "known": known}
        raise HttpError(404, message)
    return table_schema(resource)
