"""Write use cases of the national coordination: the programme's referentials (phases, their themes, funders,
territories), the users and their roles, and the projects featured on the public home ("projets remarquables").

Each function takes the acting user and validated input, checks that the user is the national coordination
(`accounts.scopes.is_national`, else PermissionDenied), applies the business rules (ValidationError in French, keyed
by field), writes in one transaction and records the history (`core.history.record_change`). Edits take the state
the form was opened on (`base`, see `editing`): saving over a newer version raises EditConflict and writes nothing.

Territories follow the rules of the territories import (`importer.py`): the same parsers for `id_ti` and the EPCI
SIREN, the region given by `id_ti`, the history snapshot of `services.territory_state`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.validators import validate_email, validate_slug
from django.db import transaction
from django.db.models import F, Prefetch
from django.utils.translation import gettext as _

from pilotage.accounts.models import Role, User
from pilotage.accounts.privacy import is_forgotten
from pilotage.accounts.scopes import is_national
from pilotage.accounts.services import SCOPE_HELP, create_or_update_user, resolve_scope
from pilotage.core.history import Action, Source, record_change, snapshot
from pilotage.core.text import fold
from pilotage.geo.models import Commune, Epci, Region
from pilotage.opendata.parsing import ParseError, parse_id_ti, parse_siren
from pilotage.projects.models import Organisation, Project
from pilotage.projects.services import versioned_state

from .editing import check_version, record_state
from .importer import phase_key
from .models import ProgrammePhase, Territory, Theme
from .services import territory_state

PHASE_FIELDS = ("code", "name", "starts_on", "ends_on")
THEME_FIELDS = ("code", "label", "description", "position")
THEME_HISTORY = ("phase", *THEME_FIELDS)
FUNDER_FIELDS = ("name", "siren")
FUNDER_HISTORY = ("name", "siren", "kind")
TERRITORY_FIELDS = ("name", "phases", "epcis")
# The public home shows this many featured projects at most: the coordination chooses which.
MAX_FEATURED = 6


def require_national(user) -> None:
    if not getattr(user, "is_authenticated", False) or not is_national(user):
        raise PermissionDenied(_("Cette page est réservée à la coordination nationale du programme."))


def _clean_text(value: Any) -> str:
    return " ".join(str(value or "").split())


# --- phases ---------------------------------------------------------------------------------------------------


def phase_in_use(phase: ProgrammePhase) -> bool:
    """A phase is used once a territory, a project, a contract, an action plan or an indicator refers to it."""
    related = (phase.territories, phase.projects, phase.contracts, phase.action_plans, phase.indicators)
    return any(manager.exists() for manager in related)


def _check_phase(data: dict[str, Any], phase: ProgrammePhase | None = None) -> dict[str, Any]:
    code = (data.get("code") or "").strip().lower()
    errors: dict[str, str] = {}
    if code != phase_key(code) or not code:
        errors["code"] = _(
            "Le code ne contient que des chiffres, des lettres minuscules sans accent et des tirets (ex. 2028-2032)."
        )
    elif ProgrammePhase.objects.filter(code=code).exclude(pk=getattr(phase, "pk", None)).exists():
        errors["code"] = _("Une phase porte déjà le code %(code)s.") % {"code": code}
    name = _clean_text(data.get("name"))
    if not name:
        errors["name"] = _("Donnez un nom à la phase.")
    starts_on, ends_on = data.get("starts_on"), data.get("ends_on")
    if starts_on and ends_on and ends_on <= starts_on:
        errors["ends_on"] = _("La fin de la phase doit suivre son début.")
    if errors:
        raise ValidationError(errors)
    return {"code": code, "name": name, "starts_on": starts_on, "ends_on": ends_on}


def create_phase(user, data: dict[str, Any], *, reason: str = "", source: str = Source.WEB) -> ProgrammePhase:
    require_national(user)
    with transaction.atomic():
        phase = ProgrammePhase(**_check_phase(data))
        phase.full_clean()
        phase.save()
        record_change(
            phase, Action.CREATE, None, snapshot(phase, PHASE_FIELDS), user=user, source=source, reason=reason
        )
    return phase


def edit_phase(
    user, phase: ProgrammePhase, data: dict[str, Any], *, base: dict | None, reason: str = "", source: str = Source.WEB
) -> ProgrammePhase:
    """Change a phase's name and dates; its code only while nothing refers to it (files and the API name it)."""
    require_national(user)
    with transaction.atomic():
        locked = ProgrammePhase.objects.select_for_update().get(pk=phase.pk)
        check_version(locked, PHASE_FIELDS, base, data)
        values = _check_phase(data, locked)
        if values["code"] != locked.code and phase_in_use(locked):
            raise ValidationError(
                {
                    "code": _(
                        "Le code d'une phase utilisée (territoires, projets, contrats ou plans d'actions) ne change "
                        "plus : les fichiers et l'API la désignent par ce code."
                    )
                }
            )
        return _save_changes(locked, values, PHASE_FIELDS, user=user, source=source, reason=reason)


def _save_changes(obj, values: dict[str, Any], fields: tuple[str, ...], *, user, source: str, reason: str):
    """Set the values and save, with one history entry, unless nothing changes."""
    before = snapshot(obj, fields)
    for name, value in values.items():
        setattr(obj, name, value)
    obj.full_clean()
    after = snapshot(obj, fields)
    if after != before:
        obj.save()
        record_change(obj, Action.UPDATE, before, after, user=user, source=source, reason=reason)
    return obj


# --- themes ---------------------------------------------------------------------------------------------------


def theme_project_count(theme: Theme) -> int:
    return theme.projects.count()


def _check_theme(phase: ProgrammePhase, data: dict[str, Any], theme: Theme | None = None) -> dict[str, Any]:
    """A code unique in the phase; a label unique too, since files may name a theme by its label."""
    code = (data.get("code") or "").strip().lower()
    label = _clean_text(data.get("label"))
    errors: dict[str, str] = {}
    others = list(phase.themes.exclude(pk=getattr(theme, "pk", None)).only("code", "label"))
    try:
        validate_slug(code)
    except ValidationError:
        errors["code"] = _("Le code ne contient que des lettres sans accent, des chiffres, « _ » ou « - ».")
    else:
        same_code = next((t for t in others if t.code == code), None)
        if same_code:
            errors["code"] = _("Le thème « %(label)s » de la phase %(phase)s porte déjà le code %(code)s.") % {
                "label": same_code.label,
                "phase": phase.code,
                "code": code,
            }
    if not label:
        errors["label"] = _("Donnez un libellé au thème.")
    elif any(fold(t.label) == fold(label) for t in others):
        errors["label"] = _("Un autre thème de la phase %(phase)s porte déjà ce libellé.") % {"phase": phase.code}
    if errors:
        raise ValidationError(errors)
    return {
        "code": code,
        "label": label,
        "description": (data.get("description") or "").strip(),
        "position": data.get("position") or 0,
    }


def create_theme(
    user, phase: ProgrammePhase, data: dict[str, Any], *, reason: str = "", source: str = Source.WEB
) -> Theme:
    require_national(user)
    with transaction.atomic():
        ProgrammePhase.objects.select_for_update().get(pk=phase.pk)  # one writer of a phase's themes at a time
        theme = Theme(phase=phase, **_check_theme(phase, data))
        theme.full_clean()
        theme.save()
        record_change(
            theme, Action.CREATE, None, snapshot(theme, THEME_HISTORY), user=user, source=source, reason=reason
        )
    return theme


def edit_theme(
    user, theme: Theme, data: dict[str, Any], *, base: dict | None, reason: str = "", source: str = Source.WEB
) -> Theme:
    """Change a theme's label, description and order; its code only while no project has the theme."""
    require_national(user)
    with transaction.atomic():
        ProgrammePhase.objects.select_for_update().get(pk=theme.phase_id)
        locked = Theme.objects.select_for_update().select_related("phase").get(pk=theme.pk)
        check_version(locked, THEME_FIELDS, base, data)
        values = _check_theme(locked.phase, data, locked)
        if values["code"] != locked.code and theme_project_count(locked):
            raise ValidationError(
                {"code": _("Des projets ont ce thème : son code ne change plus (les fichiers et l'API l'emploient).")}
            )
        return _save_changes(locked, values, THEME_HISTORY, user=user, source=source, reason=reason)


def delete_theme(user, theme: Theme, *, reason: str = "", source: str = Source.WEB) -> None:
    """Only a theme no project has: the projects' themes are their history, never silently dropped."""
    require_national(user)
    with transaction.atomic():
        locked = Theme.objects.select_for_update().get(pk=theme.pk)
        used = theme_project_count(locked)
        if used:
            raise ValidationError(
                _(
                    "Le thème « %(label)s » est celui de %(count)s projet(s) : il ne peut pas être supprimé. "
                    "Modifiez plutôt son libellé ou sa description."
                )
                % {"label": locked.label, "count": used}
            )
        record_change(
            locked, Action.DELETE, snapshot(locked, THEME_HISTORY), None, user=user, source=source, reason=reason
        )
        locked.delete()


# --- funders --------------------------------------------------------------------------------------------------


def _check_funder(data: dict[str, Any], funder: Organisation | None = None) -> dict[str, Any]:
    errors: dict[str, str] = {}
    name = _clean_text(data.get("name"))
    pk = getattr(funder, "pk", None)
    if not name:
        errors["name"] = _("Donnez le nom du financeur.")
    elif Organisation.objects.filter(kind=Organisation.Kind.FUNDER, name__iexact=name).exclude(pk=pk).exists():
        errors["name"] = _("Un financeur porte déjà ce nom.")
    siren = ""
    try:
        siren = parse_siren(data.get("siren")) or ""
    except ParseError as error:
        errors["siren"] = error.message
    if siren:
        holder = Organisation.objects.filter(siren=siren).exclude(pk=pk).first()
        if holder is not None:
            errors["siren"] = _("Le SIREN %(siren)s est déjà celui de « %(name)s » (%(kind)s).") % {
                "siren": siren,
                "name": holder.name,
                "kind": holder.get_kind_display(),
            }
    if errors:
        raise ValidationError(errors)
    return {"name": name, "siren": siren}


def create_funder(user, data: dict[str, Any], *, reason: str = "", source: str = Source.WEB) -> Organisation:
    require_national(user)
    with transaction.atomic():
        funder = Organisation(kind=Organisation.Kind.FUNDER, **_check_funder(data))
        funder.full_clean()
        funder.save()
        record_change(
            funder, Action.CREATE, None, snapshot(funder, FUNDER_HISTORY), user=user, source=source, reason=reason
        )
    return funder


def edit_funder(
    user, funder: Organisation, data: dict[str, Any], *, base: dict | None, reason: str = "", source: str = Source.WEB
) -> Organisation:
    require_national(user)
    with transaction.atomic():
        locked = Organisation.objects.select_for_update().get(pk=funder.pk, kind=Organisation.Kind.FUNDER)
        check_version(locked, FUNDER_FIELDS, base, data)
        values = _check_funder(data, locked)
        return _save_changes(locked, values, FUNDER_HISTORY, user=user, source=source, reason=reason)


# --- territories ----------------------------------------------------------------------------------------------


def check_territory_code(value: Any) -> tuple[str, str]:
    """`id_ti` as the import reads it (`ti-RRNN`, RR a region of the referential): (code, region code)."""
    try:
        parsed = parse_id_ti(value, set(Region.objects.values_list("code", flat=True)))
    except ParseError as error:
        raise ValidationError({"code": error.message}) from error
    if parsed is None:
        raise ValidationError({"code": _("L'identifiant du territoire (id_ti) est vide.")})
    return parsed.code, parsed.region


def check_perimeter(values: Iterable[Any], region: Region | None) -> list[str]:
    """The SIRENs of the perimeter, each a known EPCI (the import's rules), at least one of them in the region
    that `id_ti` names: a territory may straddle two regions, but one wholly elsewhere has a wrong code."""
    sirens, errors = [], []
    for value in values:
        try:
            siren = parse_siren(value)
        except ParseError as error:
            errors.append(error.message)
            continue
        if siren and siren not in sirens:
            sirens.append(siren)
    known = set(Epci.objects.filter(siren__in=sirens).values_list("siren", flat=True))
    errors += [
        _("L'EPCI de SIREN %(siren)s est inconnu du référentiel.") % {"siren": s} for s in sirens if s not in known
    ]
    if errors:
        raise ValidationError({"epcis": errors})
    if not sirens:
        raise ValidationError(
            {"epcis": _("Choisissez au moins un EPCI : le périmètre d'un territoire est fait d'EPCI.")}
        )
    regions = set(Commune.objects.filter(epci_id__in=sirens).values_list("department__region_id", flat=True))
    if region is not None and region.code not in regions:
        raise ValidationError(
            {
                "epcis": _(
                    "Aucun EPCI du périmètre n'a de commune en région %(region)s (code %(code)s), que désigne "
                    "l'identifiant du territoire : vérifiez l'identifiant ou le périmètre."
                )
                % {"region": region.name, "code": region.code}
            }
        )
    return sorted(sirens)


@dataclass
class TerritoryValues:
    name: str
    phases: list[ProgrammePhase]
    epcis: list[str]


def _territory_values(data: dict[str, Any], region: Region | None, errors: dict[str, Any]) -> TerritoryValues:
    """The checked name, phases and perimeter; their errors are added to `errors` (with those of the code)."""
    name = _clean_text(data.get("name"))
    if not name:
        errors["name"] = _("Le nom du territoire (lib_ti) est vide.")
    phases = list(data.get("phases") or [])
    if not phases:
        errors["phases"] = _("Rattachez le territoire à au moins une phase du programme.")
    sirens: list[str] = []
    try:
        sirens = check_perimeter(data.get("epcis") or [], region)
    except ValidationError as error:
        errors.update(error.message_dict)
    if errors:
        raise ValidationError(errors)
    return TerritoryValues(name, phases, sirens)


def _save_territory(territory: Territory, values: TerritoryValues) -> dict[str, Any]:
    territory.name = values.name
    territory.save()
    territory.phases.set(values.phases)
    territory.epcis.set(values.epcis)
    territory.refresh_derived()
    return territory_state(territory, {p.code for p in values.phases}, set(values.epcis))


def create_territory(user, data: dict[str, Any], *, reason: str = "", source: str = Source.WEB) -> Territory:
    require_national(user)
    errors: dict[str, Any] = {}
    code, region = "", None
    try:
        code, region_code = check_territory_code(data.get("code"))
        region = Region.objects.get(pk=region_code)
    except ValidationError as error:
        errors.update(error.message_dict)
    with transaction.atomic():
        existing = Territory.objects.filter(code=code).first() if code else None
        if existing is not None:
            errors["code"] = _("Le territoire %(code)s existe déjà : « %(name)s ».") % {"code": code, "name": existing}
        values = _territory_values(data, region, errors)
        territory = Territory(code=code, region=region)
        after = _save_territory(territory, values)
        record_change(territory, Action.CREATE, None, after, user=user, source=source, reason=reason)
    return territory


def territory_version(territory: Territory) -> dict[str, Any]:
    """The state an edit form is opened on: name, phases (keys) and perimeter (SIRENs)."""
    return record_state(territory, TERRITORY_FIELDS)


def edit_territory(
    user, territory: Territory, data: dict[str, Any], *, base: dict | None, reason: str = "", source: str = Source.WEB
) -> Territory:
    """Rename a territory, change its phases and perimeter (its `id_ti`, hence its region, never changes)."""
    require_national(user)
    with transaction.atomic():
        locked = Territory.objects.select_for_update().select_related("region").get(pk=territory.pk)
        submitted = {
            "name": data.get("name"),
            "phases": sorted(str(p.pk) for p in data.get("phases") or []),
            "epcis": sorted(str(s) for s in data.get("epcis") or []),
        }
        check_version(locked, TERRITORY_FIELDS, base, submitted)
        values = _territory_values(data, locked.region, {})
        phases_before = set(locked.phases.values_list("code", flat=True))
        before = territory_state(locked, phases_before, set(locked.epcis.values_list("siren", flat=True)))
        changed = (values.name, sorted(p.code for p in values.phases), values.epcis) != (
            before["name"],
            before["phases"],
            before["epcis"],
        )
        if changed:
            after = _save_territory(locked, values)
            record_change(locked, Action.UPDATE, before, after, user=user, source=source, reason=reason)
    return locked


# --- users and roles ------------------------------------------------------------------------------------------


SCOPE_RELATIONS = ("region", "territory", "project", "organisation")


def user_state(user: User) -> dict[str, Any]:
    """The history snapshot of a user: address, whether the account is active, its roles as read on screen."""
    roles = sorted(str(r) for r in Role.objects.filter(user=user).select_related(*SCOPE_RELATIONS))
    return {"email": user.email, "is_active": user.is_active, "roles": roles}


@dataclass
class Invitation:
    user: User
    created: bool
    role_added: bool

    @property
    def needs_password(self) -> bool:
        """Someone who never chose a password gets the invitation e-mail (the password reset link)."""
        return self.user.is_active and not self.user.has_usable_password()


def _check_role(kind: str, scope: str | None) -> None:
    """The scope a role needs, as `create_user` reads it; a funder must exist already (no typo creates one)."""
    if kind not in Role.Kind.values:
        raise ValidationError({"kind": _("Choisissez un rôle.")})
    if kind == Role.Kind.NATIONAL and scope:
        raise ValidationError({"scope": _("Le rôle national n'a pas de périmètre : laissez ce champ vide.")})
    if kind != Role.Kind.NATIONAL and not scope:
        raise ValidationError({"scope": _("Ce rôle demande un périmètre : %(help)s.") % {"help": SCOPE_HELP[kind]}})
    funders = Organisation.objects.filter(kind=Organisation.Kind.FUNDER, name__iexact=scope)
    if kind == Role.Kind.FUNDER and not funders.exists():
        message = _("Financeur inconnu : « %(name)s ». Créez-le d'abord dans la page des financeurs.")
        raise ValidationError({"scope": message % {"name": scope}})
    try:
        resolve_scope(kind, scope)
    except ValidationError as error:
        raise ValidationError({"scope": error.messages}) from error


FORGOTTEN = _(
    "Ce compte a été anonymisé à la demande de la personne (droit à l'effacement) : il ne peut être ni réactivé ni "
    "invité de nouveau. Invitez la personne avec une autre adresse si elle revient."
)


def invite_user(
    user, data: dict[str, Any], *, reason: str = "", source: str = Source.WEB, password: str | None = None
) -> Invitation:
    """Create the account (no password: its owner chooses one from the invitation e-mail) or add the role to it."""
    require_national(user)
    email = User.objects.normalize_email((data.get("email") or "").strip()).lower()
    try:
        validate_email(email)
    except ValidationError as error:
        raise ValidationError({"email": _("Adresse électronique invalide : %(email)s") % {"email": email}}) from error
    kind, scope = data.get("kind") or "", (data.get("scope") or "").strip() or None
    with transaction.atomic():
        _check_role(kind, scope)
        existing = User.objects.select_for_update().filter(email=email).first()
        if existing is not None and is_forgotten(existing):
            raise ValidationError({"email": FORGOTTEN})
        before = user_state(existing) if existing else None
        target, created, role_added = create_or_update_user(email, kind, scope, password=password)
        after = user_state(target)
        if after != before:
            action = Action.CREATE if created else Action.UPDATE
            record_change(target, action, before, after, user=user, source=source, reason=reason)
    return Invitation(target, created, role_added)


def remove_role(user, target: User, role: Role, *, reason: str = "", source: str = Source.WEB) -> None:
    require_national(user)
    if target.pk == user.pk and role.kind == Role.Kind.NATIONAL:
        raise ValidationError(
            _(
                "Vous ne pouvez pas retirer votre propre rôle national : demandez-le à une autre personne "
                "de la coordination."
            )
        )
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=target.pk)
        before = user_state(locked)
        Role.objects.filter(pk=role.pk, user=locked).delete()
        record_change(locked, Action.UPDATE, before, user_state(locked), user=user, source=source, reason=reason)


def set_active(user, target: User, active: bool, *, reason: str = "", source: str = Source.WEB) -> User:
    """Deactivate (or reactivate) an account: it can no longer log in, nor use its API tokens; it stays in the
    history of everything it wrote."""
    require_national(user)
    if target.pk == user.pk and not active:
        raise ValidationError(_("Vous ne pouvez pas désactiver votre propre compte."))
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=target.pk)
        if active and is_forgotten(locked):
            raise ValidationError(FORGOTTEN)
        if locked.is_active != active:
            before = user_state(locked)
            locked.is_active = active
            locked.save(update_fields=["is_active"])
            record_change(locked, Action.UPDATE, before, user_state(locked), user=user, source=source, reason=reason)
    return locked


def user_roles(target: User) -> list[Role]:
    return list(Role.objects.filter(user=target).select_related(*SCOPE_RELATIONS).order_by("kind", "pk"))


def send_invitation(target: User, *, domain: str, use_https: bool) -> bool:
    """The e-mail with which an invited person chooses their password: Django's password reset link, with words
    that say why they receive it. Sent to active accounts only; False when none was sent."""
    from pilotage.accounts.forms import ResetRequestForm

    form = ResetRequestForm({"email": target.email})
    if not form.is_valid() or not target.is_active:
        return False
    form.save(
        domain_override=domain,
        use_https=use_https,
        subject_template_name="programme/national/invitation_subject.txt",
        email_template_name="programme/national/invitation_email.txt",
        extra_email_context={"roles": [str(role) for role in user_roles(target)]},
    )
    return True


# --- featured projects ----------------------------------------------------------------------------------------


def featured_on_home() -> list[Project]:
    """The projects the public home shows: featured and public, at most `MAX_FEATURED`, the most recently reported
    first; two queries (the projects with their territory, then their themes)."""
    rows = (
        Project.objects.filter(featured=True, public=True)
        .select_related("territory")
        .prefetch_related(Prefetch("themes", queryset=Theme.objects.order_by("position", "code")))
        .order_by(F("reported_on").desc(nulls_last=True), "id_projet")
    )
    return list(rows[:MAX_FEATURED])


def featured_count() -> int:
    return Project.objects.filter(featured=True, public=True).count()


def set_featured(user, project: Project, featured: bool, *, reason: str = "", source: str = Source.WEB) -> Project:
    """Feature a public project on the home page (six at most), or stop featuring it."""
    require_national(user)
    with transaction.atomic():
        locked = Project.objects.select_for_update().get(pk=project.pk)
        if featured and not locked.public:
            raise ValidationError(
                _("Seul un projet public peut être mis en avant : « %(title)s » n'est pas public.")
                % {"title": locked.title}
            )
        if featured and not locked.featured and featured_count() >= MAX_FEATURED:
            raise ValidationError(
                _("L'accueil montre %(max)s projets remarquables au plus : retirez-en un avant d'en ajouter un.")
                % {"max": MAX_FEATURED}
            )
        if locked.featured == featured:
            return locked
        # The project's whole snapshot, so that it can still be read as of any date from its last entry. Its version
        # does not change: featuring is not an edit of the project, and must not conflict with one.
        themes = list(locked.themes.values_list("pk", flat=True))
        before = {**versioned_state(locked, themes), "featured": locked.featured}
        locked.featured = featured
        locked.save(update_fields=["featured"])
        after = {**versioned_state(locked, themes), "featured": featured}
        record_change(locked, Action.UPDATE, before, after, user=user, source=source, reason=reason)
    return locked
