"""The file columns of PRODUCT.md, defined once: import, export and the published Table Schema use them.

The Table Schema follows the conventions of schema.data.gouv.fr (frictionless Table Schema + metadata).
"""

from dataclasses import dataclass, field

from django.utils.translation import gettext_noop

from pilotage.projects.models import ProjectStatus

LICENCE = {
    "title": "Licence Ouverte / Open Licence version 2.0",
    "path": "https://www.etalab.gouv.fr/licence-ouverte-open-licence/",
    "name": "etalab-2.0",
}
ID_TI_PATTERN = r"^ti-[0-9]{4,}$"
SIREN_PATTERN = r"^[0-9]{9}$"
INSEE_COMMUNE_PATTERN = r"^([0-9]{2}|2A|2B)[0-9]{3}$"


@dataclass(frozen=True)
class Column:
    name: str
    type: str  # Table Schema type: string, date, number, integer, boolean
    title: str
    description: str
    required: bool = False
    example: str = ""
    pattern: str | None = None
    enum: tuple[str, ...] | None = None
    minimum: float | None = None

    def descriptor(self) -> dict:
        constraints: dict = {"required": self.required}
        if self.pattern:
            constraints["pattern"] = self.pattern
        if self.enum:
            constraints["enum"] = list(self.enum)
        if self.minimum is not None:
            constraints["minimum"] = self.minimum
        out = {"name": self.name, "title": self.title, "description": self.description, "type": self.type}
        if self.type == "date":
            out["format"] = "%Y-%m-%d"
        if self.type == "boolean":
            out["trueValues"] = ["true", "oui"]
            out["falseValues"] = ["false", "non"]
        if self.example:
            out["example"] = self.example
        out["constraints"] = constraints
        return out


@dataclass(frozen=True)
class Resource:
    key: str  # as in the URL /api/v1/schema/{key}.json and the `export` command
    name: str
    title: str
    description: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = field(default_factory=tuple)

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


PROJECTS = Resource(
    key="projects",
    name="projets",
    title="Projets des Territoires d'industrie",
    description="Une ligne par projet (fiche action) d'un Territoire d'industrie.",
    primary_key=("id_projet",),
    columns=(
        Column(
            "id_projet",
            "string",
            gettext_noop("Identifiant du projet"),
            gettext_noop("Identifiant stable et unique sur la plateforme ; réimporter met à jour, ne duplique jamais."),
            required=True,
            example="PRJ-ti-4401-0001",
        ),
        Column(
            "id_ti",
            "string",
            gettext_noop("Identifiant du territoire"),
            gettext_noop("Code ANCT du Territoire d'industrie (ti-RRNN)."),
            required=True,
            example="ti-4401",
            pattern=ID_TI_PATTERN,
        ),
        Column(
            "titre",
            "string",
            gettext_noop("Titre"),
            gettext_noop("Intitulé du projet."),
            required=True,
            example="Parc'Innov : écologie industrielle territoriale",
        ),
        Column("description", "string", gettext_noop("Description"), gettext_noop("Présentation du projet.")),
        Column(
            "themes",
            "string",
            gettext_noop("Thèmes"),
            gettext_noop("Codes (ou libellés) des thèmes de la phase du territoire, séparés par « ; »."),
            required=True,
            example="innover;attirer",
        ),
        Column(
            "statut",
            "string",
            gettext_noop("Statut"),
            gettext_noop("Code du statut du projet (libellés français acceptés à l'import)."),
            required=True,
            example="in_progress",
            enum=tuple(ProjectStatus.values),
        ),
        Column(
            "porteur_nom",
            "string",
            gettext_noop("Porteur"),
            gettext_noop("Nom de l'organisation qui porte le projet."),
            example="Fonderie de l'Est",
        ),
        Column(
            "porteur_siren",
            "string",
            gettext_noop("SIREN du porteur"),
            gettext_noop("SIREN (9 chiffres, clé de Luhn vérifiée)."),
            example="732829320",
            pattern=SIREN_PATTERN,
        ),
        Column(
            "commune_insee",
            "string",
            gettext_noop("Commune"),
            gettext_noop("Code INSEE d'une commune du périmètre du territoire."),
            example="57463",
            pattern=INSEE_COMMUNE_PATTERN,
        ),
        Column(
            "date_remontee",
            "date",
            gettext_noop("Date de remontée"),
            gettext_noop("Date à laquelle le projet a été remonté au programme."),
            example="2019-05-02",
        ),
        Column(
            "date_debut",
            "date",
            gettext_noop("Date de début"),
            gettext_noop("Début prévu ou réel du projet."),
            example="2019-09-01",
        ),
        Column(
            "date_fin",
            "date",
            gettext_noop("Date de fin"),
            gettext_noop("Fin prévue ou réelle ; pas avant la date de début."),
            example="2021-12-31",
        ),
        Column(
            "cout_total",
            "number",
            gettext_noop("Coût total (€)"),
            gettext_noop("Coût total du projet en euros (≥ 0)."),
            example="1200000.50",
            minimum=0,
        ),
        Column(
            "public",
            "boolean",
            gettext_noop("Public"),
            gettext_noop("Le projet est-il publié (oui/non) ?"),
            example="true",
        ),
    ),
)

FUNDING = Resource(
    key="funding",
    name="financements",
    title="Plans de financement des projets",
    description="Une ligne par financement demandé pour un projet.",
    columns=(
        Column(
            "id_projet",
            "string",
            gettext_noop("Identifiant du projet"),
            gettext_noop("Le projet financé."),
            required=True,
            example="PRJ-ti-4401-0001",
        ),
        Column(
            "financeur",
            "string",
            gettext_noop("Financeur"),
            gettext_noop("Nom du financeur."),
            required=True,
            example="Bpifrance",
        ),
        Column(
            "dispositif",
            "string",
            gettext_noop("Dispositif"),
            gettext_noop("Instrument ou programme de financement."),
            example="Prêt d'amorçage",
        ),
        Column(
            "montant_demande",
            "number",
            gettext_noop("Montant demandé (€)"),
            gettext_noop("En euros."),
            example="100000",
            minimum=0,
        ),
        Column(
            "montant_accorde",
            "number",
            gettext_noop("Montant accordé (€)"),
            gettext_noop("En euros."),
            example="80000",
            minimum=0,
        ),
        Column(
            "date_decision",
            "date",
            gettext_noop("Date de décision"),
            gettext_noop("Date de la décision du financeur."),
            example="2020-02-15",
        ),
    ),
)

TERRITORIES = Resource(
    key="territories",
    name="territoires",
    title="Territoires d'industrie et leur périmètre",
    description="Une ligne par couple (territoire, EPCI), au format des fichiers ouverts de l'ANCT, "
    "avec les dates clés du programme répétées sur chaque ligne du territoire.",
    primary_key=("id_ti", "siren_groupement"),
    columns=(
        Column(
            "id_ti",
            "string",
            gettext_noop("Identifiant du territoire"),
            gettext_noop("Code ANCT du Territoire d'industrie (ti-RRNN)."),
            required=True,
            example="ti-4401",
            pattern=ID_TI_PATTERN,
        ),
        Column(
            "lib_ti",
            "string",
            gettext_noop("Nom du territoire"),
            gettext_noop("Nom du Territoire d'industrie."),
            required=True,
            example="Nord Lorraine",
        ),
        Column(
            "siren_groupement",
            "string",
            gettext_noop("SIREN de l'EPCI"),
            gettext_noop("SIREN d'un EPCI du périmètre."),
            required=True,
            example="200039865",
            pattern=SIREN_PATTERN,
        ),
        Column(
            "lib_groupement",
            "string",
            gettext_noop("Nom de l'EPCI"),
            gettext_noop("Informatif."),
            example="Metz Métropole",
        ),
        Column(
            "phase",
            "string",
            gettext_noop("Phase"),
            gettext_noop("Phase du programme."),
            example="2018-2022",
            pattern=r"^[0-9]{4}-[0-9]{4}$",
        ),
        Column("date_gouvernance", "date", gettext_noop("Gouvernance installée le"), "", example="2019-03-15"),
        Column("date_protocole", "date", gettext_noop("Protocole signé le"), "", example="2019-06-01"),
        Column("date_contrat", "date", gettext_noop("Contrat signé le"), "", example="2019-11-19"),
        Column(
            "date_validation_plan",
            "date",
            gettext_noop("Plan d'actions validé le"),
            gettext_noop("Date de la décision du Conseil régional validant le plan d'actions."),
            example="2019-09-30",
        ),
        Column(
            "date_prevue_validation_plan",
            "date",
            gettext_noop("Validation du plan prévue le"),
            "",
            example="2019-12-31",
        ),
    ),
)

RESOURCES = {r.key: r for r in (PROJECTS, FUNDING, TERRITORIES)}


def table_schema(resource: Resource) -> dict:
    """The resource as a Table Schema with schema.data.gouv.fr metadata."""
    schema = {
        "$schema": "https://frictionlessdata.io/schemas/table-schema.json",
        "name": f"territoires-industrie-{resource.name}",
        "title": resource.title,
        "description": resource.description,
        "countryCode": "FR",
        "homepage": "/api/v1/docs",
        "path": f"/api/v1/schema/{resource.key}.json",
        "licenses": [LICENCE],
        "version": "1.0.0",
        "contributors": [{"title": "Pilotage — Territoires d'industrie", "role": "author"}],
        "fields": [c.descriptor() for c in resource.columns],
        "missingValues": [""],
    }
    if resource.primary_key:
        schema["primaryKey"] = list(resource.primary_key) if len(resource.primary_key) > 1 else resource.primary_key[0]
    return schema


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def neutralise(text: str) -> str:
    """A text cell a spreadsheet would execute gets a leading apostrophe (undone by `restore` on import)."""
    return "'" + text if text and text.startswith(FORMULA_PREFIXES) else text


def restore(text: str) -> str:
    return text[1:] if len(text) > 1 and text[0] == "'" and text[1] in "=+-@\t\r" else text
