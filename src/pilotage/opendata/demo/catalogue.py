"""Hand-written tables behind the demonstration programme: real territories, the article's figures, words for titles.

Sources: the article of 2019-11-20 on the Grand Est general assembly (`docs/data.md`), the two phase-2 territories
assembled from the press (Nord Lorraine, Lunévillois), and the official referential for the EPCI SIRENs (looked up by
name in `@etalab/decoupage-administratif` 6.0.0 when this table was written; never read at run time).
"""

from __future__ import annotations

import datetime
from typing import NamedTuple

PHASE_1 = "2018-2022"
PHASE_2 = "2023-2027"

# --- The article's national picture, as of the general assembly (Mulhouse, 2019-11-19) -----------
LAUNCHED_ON = datetime.date(2018, 11, 22)
ASSEMBLY_ON = datetime.date(2019, 11, 19)
NATIONAL_TERRITORIES = 146
GOVERNANCE_INSTALLED_SHARE = 0.87
PLANS_VALIDATED = 58  # by their Regional Council, on 2019-11-19
PLANS_BY_YEAR_END = 100  # "plus de 98 sont attendus d'ici la fin de l'année"
PROJECTS_REPORTED = 1250  # "environ 1200 à 1300 projets remontés du terrain"
# Projects reported later in phase 1 (2019-11-20 … 2022) and in phase 2, so that scale 1 holds about 3,000 projects.
PROJECTS_REPORTED_LATER = 650
PHASE_2_PROJECTS_PER_TERRITORY = 6.4
# The projects of the 11 territories that signed at the assembly: "une cinquantaine de projets".
ASSEMBLY_PROJECTS = 50

PHASE_1_REPORTING_ENDS = datetime.date(2022, 10, 31)
PHASE_2_REPORTING_STARTS = datetime.date(2023, 3, 1)
# The demo is a snapshot taken on this date: every recorded fact is on or before it, plans and targets may be after.
SNAPSHOT_ON = datetime.date(2026, 9, 30)


class RealTerritory(NamedTuple):
    code: str
    name: str
    sirens: tuple[str, ...]
    phases: tuple[str, ...]
    signed_at_assembly: bool  # one of the 11 protocols and contracts signed on 2019-11-19


# Grand Est: the 11 territories the article names (signed at the assembly), four more real-sounding ones to make its 15,
# and the two phase-2 territories of the sample file. Nord Lorraine keeps its phase-2 perimeter (the sample's 10 EPCI)
# for both phases, since a territory has one perimeter. Each EPCI belongs to at most one territory.
GRAND_EST: tuple[RealTerritory, ...] = (
    RealTerritory(
        "ti-4401",
        "Alsace bossue – Saverne – Nord Alsace",
        # Alsace Bossue, Pays de Saverne, Hanau-La Petite Pierre, CA de Haguenau, Niederbronn-les-Bains,
        # Sauer-Pechelbronn
        ("200067841", "200068112", "200067783", "200067874", "246701098", "200013050"),
        (PHASE_1,),
        True,
    ),
    RealTerritory(
        "ti-4402",
        "Alsace centrale",
        # Sélestat, Ried de Marckolsheim, Vallée de Villé, Val d'Argent, Pays de Barr
        ("246700967", "200030526", "246700777", "246800395", "200034270"),
        (PHASE_1,),
        True,
    ),
    RealTerritory(
        "ti-4403",
        "Nord Est Ardennes",
        # CA Ardenne Métropole, Ardenne Rives de Meuse, Vallées et Plateau d'Ardenne, Portes du Luxembourg
        ("200041630", "240800821", "200067759", "240800847"),
        (PHASE_1,),
        True,
    ),
    RealTerritory(
        "ti-4404",
        "Epernay Bassin Sézannais Portes de Romilly",
        # CA Epernay Coteaux et Plaine de Champagne, Sézanne-Sud Ouest Marnais, Portes de Romilly,
        # Grande Vallée de la Marne
        ("200067684", "200066835", "200000545", "245100615"),
        (PHASE_1,),
        True,
    ),
    RealTerritory(
        "ti-4405",
        "Nord Lorraine",
        # The sample file's 10 EPCI: Rives de Moselle, Metz Métropole, Val de Fensch, Portes de France-Thionville, Arc
        # Mosellan, Bouzonvillois-Trois Frontières, Pays Orne Moselle, Cattenom, Pays Haut Val d'Alzette, Grand Longwy
        (
            "200039949",
            "200039865",
            "245701222",
            "245701362",
            "245701354",
            "200067486",
            "245701271",
            "245700695",
            "245701404",
            "245400262",
        ),
        (PHASE_1, PHASE_2),
        True,
    ),
    RealTerritory(
        "ti-4406",
        "Val de Lorraine",
        # Bassin de Pont-à-Mousson, Bassin de Pompey, Mad et Moselle, Seille et Grand Couronné
        ("200041515", "245400601", "200070738", "200070589"),
        (PHASE_1,),
        True,
    ),
    RealTerritory(
        "ti-4407",
        "Terres de Lorraine",
        # Terres Touloises, Moselle et Madon, Pays de Colombey et du Sud Toulois, Pays du Saintois
        ("200070563", "245400171", "245400510", "200035772"),
        (PHASE_1,),
        True,
    ),
    RealTerritory(
        "ti-4408",
        "Vitry-le-François – Saint-Dizier – Bar-le-Duc Bassin de Joinville",
        # Vitry Champagne et Der, CA Grand Saint-Dizier Der et Vallées, CA Bar-le-Duc Sud Meuse, Bassin de Joinville
        ("200034718", "200068666", "200033025", "200044253"),
        (PHASE_1,),
        True,
    ),
    RealTerritory(
        "ti-4409",
        "Vosges",
        # CA d'Epinal, CA de Saint-Dié-des-Vosges, Porte des Vosges Méridionales, Ouest Vosgien, Hautes Vosges,
        # Gérardmer Hautes Vosges, Bruyères-Vallons des Vosges, Mirecourt Dompaire
        ("200068757", "200071066", "200068377", "200068559", "200096634", "200096642", "200042000", "200068369"),
        (PHASE_1,),
        True,
    ),
    RealTerritory(
        "ti-4410",
        "Langres-Chaumont",
        # Grand Langres, CA de Chaumont, Savoir-Faire, Trois Forêts
        ("200072999", "200068658", "200070332", "245200597"),
        (PHASE_1,),
        True,
    ),
    RealTerritory(
        "ti-4411",
        "Troyes Bar sur Aube",
        # CA Troyes Champagne Métropole, Région de Bar sur Aube, Vendeuvre-Soulaines, Barséquanais en Champagne
        ("200069250", "241000405", "200066892", "200069003"),
        (PHASE_1,),
        True,
    ),
    RealTerritory(
        "ti-4412",
        "Mulhouse – Thann-Cernay – Guebwiller",
        # CA Mulhouse Alsace Agglomération, Thann-Cernay, Région de Guebwiller, Saint-Amarin, Doller et Soultzbach
        ("200066009", "200036465", "246800569", "246800205", "246800676"),
        (PHASE_1,),
        False,
    ),
    RealTerritory(
        "ti-4413",
        "Moselle Est",
        # CA de Forbach Porte de France, CA Saint-Avold Synergie, Freyming-Merlebach, Warndt
        ("245700372", "200067502", "245700398", "245701164"),
        (PHASE_1,),
        False,
    ),
    RealTerritory(
        "ti-4414",
        "Sarreguemines-Bitche",
        # CA Sarreguemines Confluences, Pays de Bitche
        ("200070746", "200069441"),
        (PHASE_1,),
        False,
    ),
    RealTerritory(
        "ti-4415",
        "Sud Ardennes",
        # Pays Rethélois, Argonne Ardennaise, Crêtes Préardennaises
        ("200043156", "240800920", "240800862"),
        (PHASE_1,),
        False,
    ),
    RealTerritory(
        "ti-4416",
        "Lunévillois",
        # The sample file's 4 EPCI: Meurthe Mortagne Moselle, Lunéville à Baccarat, Pays du Sanon, Vezouze en Piémont
        ("200067643", "200070324", "245400759", "200069433"),
        (PHASE_2,),
        False,
    ),
)

# The territories the article lists by name (the 11 that signed at the assembly).
ARTICLE_TERRITORIES = tuple(t.name for t in GRAND_EST if t.signed_at_assembly)
ARTICLE_PROJECTS = {
    # Vitry-le-François – Saint-Dizier – Bar-le-Duc Bassin de Joinville
    "ti-4408": (
        "Parc'Innov : écologie industrielle territoriale sur les bioressources",
        "Mise en œuvre du Parc'Innov, un modèle d'écologie industrielle territoriale en milieu rural basé sur les "
        "bioressources, pour Vitry-le-François, Saint-Dizier, Bar-le-Duc et le bassin de Joinville.",
        ("innover", "installer"),
    ),
    "ti-4410": (
        "Adaptation des sous-traitants automobiles à la mobilité 4.0",
        "Stratégie d'adaptation des entreprises du secteur automobile du bassin de Langres-Chaumont à la "
        "mobilité 4.0 : diagnostics, diversification et formation des salariés.",
        ("innover", "recruter"),
    ),
}

# Synthetic territories per region outside Grand Est: (phase 1, new in phase 2). 146 phase-1 territories in all
# (15 in Grand Est), and 37 new ones in phase 2 (Lunévillois in Grand Est), i.e. 183 territories.
REGION_PLAN: dict[str, tuple[int, int]] = {
    "01": (1, 0),  # Guadeloupe
    "02": (1, 0),  # Martinique
    "03": (1, 0),  # Guyane
    "04": (2, 1),  # La Réunion
    "06": (1, 0),  # Mayotte
    "11": (6, 2),  # Île-de-France
    "24": (9, 2),  # Centre-Val de Loire
    "27": (12, 3),  # Bourgogne-Franche-Comté
    "28": (11, 3),  # Normandie
    "32": (16, 4),  # Hauts-de-France
    "52": (9, 2),  # Pays de la Loire
    "53": (8, 2),  # Bretagne
    "75": (16, 5),  # Nouvelle-Aquitaine
    "76": (13, 4),  # Occitanie
    "84": (19, 5),  # Auvergne-Rhône-Alpes
    "93": (5, 2),  # Provence-Alpes-Côte d'Azur
    "94": (1, 1),  # Corse
}
# Share of phase-1 territories that carried on into phase 2 (besides Nord Lorraine, which the sample shows).
CONTINUED_SHARE = 0.93
# Metropolises are not Territoires d'industrie on their own: never the seed of a synthetic perimeter.
MAX_SEED_POPULATION = 450_000


def words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


def of_place(name: str) -> str:
    """French « de » before a place name: « d'Annecy », « du Creusot », « des Mureaux », « de Brest »."""
    if name.startswith("Le "):
        return f"du {name[3:]}"
    if name.startswith("Les "):
        return f"des {name[4:]}"
    return f"d'{name}" if name[0] in "AEIOUYÉÈÎHaeiouyh" else f"de {name}"


def at_place(name: str) -> str:
    """French « à » before a place name: « au Creusot », « aux Mureaux », « à Brest »."""
    if name.startswith("Le "):
        return f"au {name[3:]}"
    if name.startswith("Les "):
        return f"aux {name[4:]}"
    return f"à {name}"


# --- People (fictitious) -------------------------------------------------------------------------
FIRST_NAMES_F = words(
    "Anne Audrey Camille Caroline Catherine Céline Christine Claire Delphine Élodie Émilie Florence "
    "Hélène Isabelle Julie Laure Marie Martine Nathalie Pascale Sandrine Sophie Stéphanie Valérie "
    "Véronique"
)
FIRST_NAMES_M = words(
    "Alain Antoine Bernard Bruno Christophe Damien David Éric Franck François Frédéric Jean Jérôme Julien "
    "Laurent Marc Mathieu Nicolas Olivier Patrick Philippe Pierre Sébastien Stéphane Thierry"
)
LAST_NAMES = words(
    "Martin Bernard Thomas Petit Robert Richard Durand Dubois Moreau Laurent Simon Michel Lefèvre Leroy "
    "Roux David Bertrand Morel Fournier Girard Bonnet Dupont Lambert Fontaine Rousseau Vincent Muller "
    "Lefebvre Faure André Mercier Blanc Guérin Boyer Garnier Chevalier François Legrand Gauthier Garcia "
    "Perrin Robin Clément Morin Nicolas Henry Roussel Mathieu Gautier Masson Marchand Duval Denis Dumont "
    "Marie Lemaire Noël Meyer Dufour Meunier Brun Blanchard Giraud Joly Rivière Lucas Brunet Gaillard "
    "Barbier Arnaud Schmitt Weber Klein Wagner Hoffmann Schneider Colin Vidal Caron Picard"
)
EMAIL_DOMAIN = "demo-territoires-industrie.example"  # reserved TLD: no real mailbox can be reached

# --- Industry words ------------------------------------------------------------------------------
SECTORS = (
    "automobile",
    "agroalimentaire",
    "plasturgie",
    "métallurgie",
    "bois",
    "chimie",
    "aéronautique",
    "textile",
    "papier-carton",
    "verre",
    "mécanique",
    "électronique",
    "santé",
    "matériaux composites",
    "ferroviaire",
)
COMPANY_PATTERNS = (
    "{last} Industrie",
    "Fonderie {last}",
    "Ateliers mécaniques {of_town}",
    "{acr} Plastiques",
    "{last} et Fils",
    "Mécanique de précision {last}",
    "{town} Emballages",
    "{acr} Composites",
    "Tôlerie {last}",
    "Scierie {last}",
    "Laiterie {of_town}",
    "{acr} Automotive",
    "Verrerie {last}",
    "{acr} Électronique",
    "Chaudronnerie {last}",
    "{last} Usinage",
    "Papeterie {of_town}",
    "{acr} Technologies",
    "Forges {of_town}",
    "Biscuiterie {last}",
)
COMPANY_FORMS = ("SAS", "SA", "SARL", "SAS", "SAS")

# Titles per theme code: {at_town} « à Brest », {of_town} « de Brest » (a commune of the perimeter),
# {sector}, {territory}.
TITLES: dict[str, tuple[str, ...]] = {
    "attirer": (
        "Campagne d'attractivité des métiers de l'industrie {at_town}",
        "Marque territoriale industrielle {territory}",
        "Accueil des nouveaux salariés et de leurs familles {at_town}",
        "Prospection d'investisseurs pour la filière {sector}",
        "Semaine de l'industrie : portes ouvertes des usines du bassin {of_town}",
        "Guichet d'accueil des conjoints de salariés de l'industrie",
        "Film promotionnel des savoir-faire industriels du territoire {territory}",
    ),
    "recruter": (
        "Plateforme de formation aux métiers de la maintenance industrielle",
        "Gestion prévisionnelle des emplois et des compétences de la filière {sector}",
        "Campus des métiers et des qualifications {sector} {at_town}",
        "Recrutement mutualisé d'apprentis pour les PME {of_town}",
        "École de production en usinage {at_town}",
        "Logements pour alternants et jeunes salariés de l'industrie {at_town}",
        "Parcours de reconversion vers la filière {sector}",
    ),
    "simplifier": (
        "Guichet unique des projets industriels du territoire {territory}",
        "Accompagnement réglementaire des extensions de sites industriels",
        "Référent unique État-Région pour les industriels du bassin {of_town}",
        "Cartographie partagée des friches et du foncier disponible",
        "Instruction accélérée des autorisations environnementales",
    ),
    "innover": (
        "Adaptation des sous-traitants de la filière {sector} à l'industrie du futur",
        "Diagnostics industrie du futur pour les PME du territoire {territory}",
        "Plateforme technologique {sector} {at_town}",
        "Démonstrateur de robotique collaborative {at_town}",
        "Écologie industrielle et territoriale : mutualisation des flux entre entreprises {of_town}",
        "Fab lab industriel et prototypage rapide {at_town}",
        "Centre de ressources en fabrication additive {at_town}",
    ),
    "installer": (
        "Extension de la zone d'activités {of_town}",
        "Requalification de la friche industrielle {of_town}",
        "Village d'entreprises et ateliers relais {at_town}",
        "Desserte ferroviaire du site industriel {of_town}",
        "Raccordement au très haut débit des zones d'activité du territoire {territory}",
        "Hôtel d'entreprises industrielles {at_town}",
    ),
    "competences": (
        "Campus des compétences industrielles du territoire {territory}",
        "Parcours d'insertion vers les métiers de l'industrie {at_town}",
        "Plan de formation aux métiers en tension de la filière {sector}",
        "Transport à la demande vers les zones industrielles {of_town}",
        "Académie des métiers de la décarbonation {at_town}",
    ),
    "transition_ecologique": (
        "Réseau de chaleur alimenté par la chaleur fatale industrielle {at_town}",
        "Décarbonation des procédés de la filière {sector}",
        "Boucle d'autoconsommation solaire de la zone d'activités {of_town}",
        "Unité de production d'hydrogène renouvelable {at_town}",
        "Économie circulaire : valorisation des déchets industriels du territoire {territory}",
    ),
    "innovation": (
        "Centre d'innovation {sector} {at_town}",
        "Accélérateur de start-up industrielles du territoire {territory}",
        "Usine pilote de la filière {sector} {at_town}",
        "Jumeau numérique des lignes de production des PME {of_town}",
    ),
    "foncier": (
        "Réhabilitation de la friche industrielle {of_town}",
        "Zone d'activités clés en main {at_town}",
        "Densification des zones d'activités du territoire {territory}",
        "Site industriel prêt à l'emploi {at_town}",
    ),
}
GENERIC_TITLE = "{theme} : projet industriel {at_town}"
AIMS: dict[str, str] = {
    "attirer": "rendre le territoire plus attractif pour les salariés, les entreprises et les investisseurs",
    "recruter": "répondre aux besoins de recrutement des industriels et former aux métiers qui peinent à recruter",
    "simplifier": "raccourcir les délais des démarches administratives des industriels",
    "innover": "accompagner la modernisation et la diversification des entreprises industrielles",
    "installer": "offrir aux entreprises le foncier, l'immobilier et les infrastructures dont elles ont besoin",
    "competences": "lever les freins au recrutement et développer les compétences dont l'industrie a besoin",
    "transition_ecologique": "réduire l'empreinte carbone et la consommation d'énergie des sites industriels",
    "innovation": "faire émerger un écosystème d'innovation autour des entreprises du territoire",
    "foncier": "mobiliser un foncier industriel adapté et sobre en artificialisation",
}
EXTRA_SENTENCES = (
    "Le projet associe les entreprises du bassin, les organismes de formation et les collectivités.",
    "Une étude de faisabilité a précédé le lancement du projet.",
    "Le comité de pilotage du territoire suit son avancement chaque trimestre.",
    "Les industriels du territoire ont été consultés lors d'ateliers de co-construction.",
    "Le projet s'appuie sur les savoir-faire de la filière {sector}.",
)
ABANDON_REASONS = (
    "Plan de financement non bouclé.",
    "Le porteur a renoncé à son projet d'investissement.",
    "Projet fusionné avec une autre fiche action du territoire.",
    "Foncier finalement indisponible.",
    "Retrait de l'entreprise porteuse à la suite de difficultés économiques.",
)
TRANSITION_REASONS = {
    "idea": "Fiche action remontée au comité de pilotage.",
    "maturing": "Projet retenu en comité de pilotage : montage en cours.",
    "ready": "Plan de financement bouclé.",
    "in_progress": "Démarrage des travaux ou de l'action.",
    "completed": "Action réalisée.",
}
MILESTONES: dict[str, tuple[str, ...]] = {
    "default": ("Étude de faisabilité", "Dépôt des demandes de financement", "Lancement", "Bilan"),
    "installer": ("Acquisition du foncier", "Dépôt du permis de construire", "Début des travaux", "Mise en service"),
    "foncier": ("Acquisition du foncier", "Dépollution du site", "Début des travaux", "Commercialisation"),
    "recruter": ("Constitution du partenariat", "Ouverture des inscriptions", "Première promotion", "Bilan"),
    "competences": ("Constitution du partenariat", "Ouverture des inscriptions", "Première promotion", "Bilan"),
}

# --- Funders and their instruments, per phase ----------------------------------------------------
REGION_FUNDER = "Région {region}"  # the Regional Council of the territory's region
FUNDERS: dict[str, dict[str, tuple[str, ...]]] = {
    PHASE_1: {
        "Banque des Territoires": ("Ingénierie Territoires d'industrie", "Prêt au secteur public local"),
        "Bpifrance": ("Prêt croissance industrie", "Aide pour projet d'innovation", "Prêt industrie du futur"),
        REGION_FUNDER: ("Aide régionale à l'investissement industriel", "Fonds régional pour l'innovation"),
        "État": (
            "DSIL",
            "Fonds d'accélération des investissements industriels dans les territoires",
            "France Relance – Territoires d'industrie",
            "DETR",
        ),
        "Union européenne (FEDER)": ("FEDER 2014-2020",),
    },
    PHASE_2: {
        "Banque des Territoires": ("Ingénierie Territoires d'industrie", "Prêt renouvellement urbain et industriel"),
        "Bpifrance": ("Prêt vert", "Aide pour projet d'innovation", "Prêt croissance industrie"),
        REGION_FUNDER: ("Aide régionale à l'investissement industriel", "Fonds régional pour la transition"),
        "État": ("Fonds vert", "France 2030 – Territoires d'industrie", "DSIL", "Fonds d'ingénierie"),
        "Union européenne (FEDER)": ("FEDER-FSE+ 2021-2027",),
    },
}
FUNDER_WEIGHTS = {
    "Banque des Territoires": 3,
    "Bpifrance": 3,
    REGION_FUNDER: 4,
    "État": 4,
    "Union européenne (FEDER)": 2,
}
FUNDING_LINES_WEIGHTS = (10, 20, 27, 23, 13, 7)  # 1 … 6 lines, about 3.3 per project

# Indicators created per phase (idempotently): code, label, unit.
INDICATORS = (
    ("jobs_created", "emplois créés", "emplois"),
    ("jobs_kept", "emplois maintenus", "emplois"),
    ("private_investment", "investissement privé (€)", "€"),
    ("people_trained", "personnes formées", "personnes"),
)
INDICATORS_BY_THEME = {
    "recruter": ("people_trained", "jobs_created"),
    "competences": ("people_trained", "jobs_created"),
    "installer": ("jobs_created", "private_investment"),
    "foncier": ("jobs_created", "private_investment"),
    "innover": ("jobs_kept", "private_investment"),
    "innovation": ("jobs_kept", "private_investment", "jobs_created"),
    "transition_ecologique": ("private_investment", "jobs_kept"),
}
