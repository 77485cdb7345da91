"""Pages of the national coordination (`/espace/national/`): phases and their themes, funders, territories, users
and the projects featured on the public home.

Views stay thin: they check that the user is the national coordination (others get the French 403 page, visitors
the login page), parse a form and call a service of `national`, which checks the permission again, applies the
rules, writes and records the history. Lists are paginated and cost a fixed number of queries.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.db.models import Count, Exists, F, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from pilotage.accounts.models import Role, User
from pilotage.accounts.privacy import is_forgotten
from pilotage.core.history import history_of
from pilotage.core.pagination import page_numbers
from pilotage.core.text import search_terms
from pilotage.geo.models import Epci, Region
from pilotage.projects.models import FundingLine, Organisation, Project
from pilotage.projects.queries import filter_projects, in_list_order

from . import national
from .editing import EditConflict, record_state
from .manage_views import add_service_errors, back_office, conflict_context, last_is_current, reason_of
from .models import ProgrammePhase, Territory, Theme
from .national_forms import (
    FeatureForm,
    FunderCreateForm,
    FunderEditForm,
    InviteForm,
    PhaseCreateForm,
    PhaseEditForm,
    ReasonForm,
    RoleForm,
    TerritoryCreateForm,
    TerritoryEditForm,
    ThemeCreateForm,
    ThemeEditForm,
    UnfeatureForm,
)
from .timeline import EMPTY, Change, TimelineEntry, timeline

PAGE_SIZE = 25
MAX_QUERY_LENGTH = 200
TERRITORY_HISTORY = ("name", "region", "phases")  # and the perimeter, shown by `territory_timeline`


# --- access and rendering -------------------------------------------------------------------------------------


def national_page(view: Callable) -> Callable:
    """Login required (visitors go to the login page); anyone but the national coordination gets the 403 page."""

    @functools.wraps(view)
    def checked(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        national.require_national(request.user)
        return view(request, *args, **kwargs)

    return back_office(checked)


# The side menu: (section, label, URL name); a page belongs to the section its URL name starts with.
MENU = (
    ("dashboard", gettext_lazy("Vue d'ensemble"), "national:dashboard"),
    ("phase", gettext_lazy("Phases et thèmes"), "national:phases"),
    ("territor", gettext_lazy("Territoires"), "national:territories"),
    ("funder", gettext_lazy("Financeurs"), "national:funders"),
    ("user", gettext_lazy("Utilisateurs"), "national:users"),
    ("featured", gettext_lazy("Projets remarquables"), "national:featured"),
)


def menu(request: HttpRequest) -> list[dict[str, Any]]:
    name = request.resolver_match.url_name if request.resolver_match else ""
    name = "phase" if name.startswith("theme") else name
    return [{"label": label, "url": reverse(target), "active": name.startswith(key)} for key, label, target in MENU]


def page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    home = (_("Coordination nationale"), reverse("national:dashboard"))
    context["breadcrumb"] = last_is_current([(_("Mon espace"), reverse("workspace")), home, *context.get("crumbs", [])])
    context["menu"] = menu(request)
    return render(request, f"programme/national/{template}", context, status=status)


def paginate(request: HttpRequest, items: QuerySet) -> tuple[Page, list[int | None]]:
    """A page of `items` (one COUNT, one slice) and the page numbers to link, None where an ellipsis stands."""
    current = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    return current, page_numbers(current)


def query_text(request: HttpRequest, name: str = "q") -> str:
    return request.GET.get(name, "").strip()[:MAX_QUERY_LENGTH]


def count_of(rows: QuerySet, key: str) -> Coalesce:
    """The number of `rows` pointing at the outer record through `key`, as a subquery: one query for a whole list,
    without the row multiplication of joined counts."""
    counted = rows.filter(**{key: OuterRef("pk")}).order_by().values(key).annotate(n=Count("*")).values("n")
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


# --- create and edit ------------------------------------------------------------------------------------------


def create_page(
    request: HttpRequest,
    form_class: type,
    save: Callable[[Any], Any],
    context: dict[str, Any],
    success: Callable[[Any], str],
    *,
    initial: dict | None = None,
) -> HttpResponse:
    """GET shows the empty form; POST saves through the service, or shows the errors (nothing is written)."""
    form = form_class(request.POST) if request.method == "POST" else form_class(initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            saved = save(form)
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Enregistré."))
            return redirect(success(saved))
    return page(request, "form.html", {**context, "form": form})


@dataclass
class Editor:
    """How a page edits one kind of record: its form, the versioned fields, the initial values, the service."""

    form_class: type
    fields: tuple[str, ...]
    initial: Callable[[Any], dict]
    save: Callable[[Any, Any], Any]  # (form, record) → saved record
    form_kwargs: dict = field(default_factory=dict)


def edit_page(
    request: HttpRequest, editor: Editor, record: Any, context: dict[str, Any], success: Callable[[Any], str]
) -> HttpResponse:
    """GET shows the form on the record's current version; POST saves, or shows errors or the edit conflict (409)."""

    def fresh_form(current):
        state = record_state(current, editor.fields)
        return editor.form_class(initial=editor.initial(current), state=state, **editor.form_kwargs)

    if request.method != "POST":
        return page(request, "form.html", {**context, "form": fresh_form(record)})
    form = editor.form_class(request.POST, initial=editor.initial(record), **editor.form_kwargs)
    if form.is_valid():
        try:
            saved = editor.save(form, record)
        except ValidationError as error:
            add_service_errors(form, error)
        except EditConflict as conflict:
            current = type(record).objects.get(pk=record.pk)
            context = {**context, "conflict": conflict_context(conflict)}
            return page(request, "form.html", {**context, "form": fresh_form(current)}, status=409)
        else:
            messages.success(request, _("Modifications enregistrées."))
            return redirect(success(saved))
    return page(request, "form.html", {**context, "form": form})


# --- dashboard ------------------------------------------------------------------------------------------------


@dataclass
class Section:
    title: str
    url: str
    figure: str
    description: str


@national_page
def dashboard(request: HttpRequest) -> HttpResponse:
    counts = {
        "phases": ProgrammePhase.objects.count(),
        "themes": Theme.objects.count(),
        "funders": Organisation.objects.filter(kind=Organisation.Kind.FUNDER).count(),
        "territories": Territory.objects.count(),
        "users": User.objects.filter(is_active=True).count(),
        "featured": national.featured_count(),
    }
    phases = ngettext("%(n)s phase", "%(n)s phases", counts["phases"]) % {"n": counts["phases"]}
    themes = ngettext("%(n)s thème", "%(n)s thèmes", counts["themes"]) % {"n": counts["themes"]}
    sections = [
        Section(
            _("Phases et thèmes"),
            reverse("national:phases"),
            f"{phases}, {themes}",
            _("Les phases du programme, leurs dates et les thèmes (axes) de chacune."),
        ),
        Section(
            _("Territoires"),
            reverse("national:territories"),
            ngettext("%(n)s territoire", "%(n)s territoires", counts["territories"]) % {"n": counts["territories"]},
            _("Créer un territoire d'industrie, le renommer, changer ses phases et son périmètre."),
        ),
        Section(
            _("Financeurs"),
            reverse("national:funders"),
            ngettext("%(n)s financeur", "%(n)s financeurs", counts["funders"]) % {"n": counts["funders"]},
            _("Les financeurs des plans de financement, avec leur SIREN."),
        ),
        Section(
            _("Utilisateurs"),
            reverse("national:users"),
            ngettext("%(n)s compte actif", "%(n)s comptes actifs", counts["users"]) % {"n": counts["users"]},
            _("Inviter une personne avec son rôle, ajouter ou retirer un rôle, désactiver un compte."),
        ),
        Section(
            _("Projets remarquables"),
            reverse("national:featured"),
            _("%(n)s sur %(max)s sur l'accueil") % {"n": counts["featured"], "max": national.MAX_FEATURED},
            _("Les projets publics mis en avant sur la page d'accueil."),
        ),
    ]
    return page(request, "dashboard.html", {"title": _("Coordination nationale"), "sections": sections})


# --- phases and themes ----------------------------------------------------------------------------------------


def phase_crumbs(phase: ProgrammePhase | None = None, *more) -> list:
    crumbs = [(_("Phases et thèmes"), reverse("national:phases"))]
    if phase is not None:
        crumbs.append((phase.name, reverse("national:phase", args=[phase.code])))
    return [*crumbs, *more]


@national_page
def phases(request: HttpRequest) -> HttpResponse:
    rows = ProgrammePhase.objects.annotate(
        theme_count=count_of(Theme.objects.all(), "phase"),
        territory_count=count_of(Territory.phases.through.objects.all(), "programmephase"),
        project_count=count_of(Project.objects.all(), "phase"),
    ).order_by("starts_on", "code")
    context = {"title": _("Phases du programme"), "crumbs": phase_crumbs(), "phases": list(rows)}
    return page(request, "phases.html", context)


@national_page
def phase_add(request: HttpRequest) -> HttpResponse:
    context = {
        "title": _("Ajouter une phase du programme"),
        "crumbs": phase_crumbs(None, (_("Ajouter"), None)),
        "cancel_url": reverse("national:phases"),
    }

    def save(form):
        return national.create_phase(request.user, form.data_for_service(), reason=reason_of(form))

    return create_page(request, PhaseCreateForm, save, context, phase_url)


def phase_url(phase: ProgrammePhase) -> str:
    return reverse("national:phase", args=[phase.code])


@national_page
def phase_detail(request: HttpRequest, code: str) -> HttpResponse:
    phase = get_object_or_404(ProgrammePhase, code=code)
    themes = phase.themes.annotate(project_count=count_of(Project.themes.through.objects.all(), "theme"))
    context = {
        "title": phase.name,
        "crumbs": phase_crumbs(phase),
        "phase": phase,
        "themes": list(themes.order_by("position", "code")),
        "in_use": national.phase_in_use(phase),
        "timeline": timeline(phase, national.PHASE_FIELDS),
    }
    return page(request, "phase_detail.html", context)


@national_page
def phase_edit(request: HttpRequest, code: str) -> HttpResponse:
    phase = get_object_or_404(ProgrammePhase, code=code)

    def save(form, record):
        # A locked code is a disabled field: it gives back the phase's own code whatever is posted.
        return national.edit_phase(
            request.user, record, form.data_for_service(), base=form.base, reason=reason_of(form)
        )

    editor = Editor(
        PhaseEditForm,
        national.PHASE_FIELDS,
        lambda p: {name: getattr(p, name) for name in national.PHASE_FIELDS},
        save,
        {"code_locked": national.phase_in_use(phase)},
    )
    context = {
        "title": _("Modifier la phase %(name)s") % {"name": phase.name},
        "crumbs": phase_crumbs(phase, (_("Modifier"), None)),
        "cancel_url": phase_url(phase),
    }
    return edit_page(request, editor, phase, context, phase_url)


def theme_context(phase: ProgrammePhase, title: str, *more) -> dict[str, Any]:
    return {"title": title, "crumbs": phase_crumbs(phase, *more), "cancel_url": phase_url(phase)}


@national_page
def theme_add(request: HttpRequest, code: str) -> HttpResponse:
    phase = get_object_or_404(ProgrammePhase, code=code)
    title = _("Ajouter un thème à la phase %(name)s") % {"name": phase.name}
    context = theme_context(phase, title, (_("Ajouter un thème"), None))
    following = (phase.themes.order_by("-position").values_list("position", flat=True).first() or 0) + 1

    def save(form):
        return national.create_theme(request.user, phase, form.data_for_service(), reason=reason_of(form))

    return create_page(
        request, ThemeCreateForm, save, context, lambda t: phase_url(phase), initial={"position": following}
    )


def phase_theme(code: str, pk: int) -> Theme:
    return get_object_or_404(Theme.objects.select_related("phase"), pk=pk, phase__code=code)


@national_page
def theme_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    theme = phase_theme(code, pk)

    def save(form, record):
        return national.edit_theme(
            request.user, record, form.data_for_service(), base=form.base, reason=reason_of(form)
        )

    editor = Editor(
        ThemeEditForm,
        national.THEME_FIELDS,
        lambda t: {name: getattr(t, name) for name in national.THEME_FIELDS},
        save,
        {"code_locked": national.theme_project_count(theme) > 0},
    )
    context = {
        **theme_context(
            theme.phase, _("Modifier le thème « %(label)s »") % {"label": theme.label}, (theme.label, None)
        ),
        "timeline": timeline(theme, national.THEME_HISTORY),
    }
    return edit_page(request, editor, theme, context, lambda t: phase_url(theme.phase))


@national_page
def theme_delete(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    theme = phase_theme(code, pk)
    used = national.theme_project_count(theme)
    form = ReasonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            national.delete_theme(request.user, theme, reason=reason_of(form))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            messages.success(request, _("Le thème « %(label)s » est supprimé.") % {"label": theme.label})
            return redirect(phase_url(theme.phase))
    context = {
        **theme_context(
            theme.phase, _("Supprimer le thème « %(label)s »") % {"label": theme.label}, (theme.label, None)
        ),
        "form": form,
        "theme": theme,
        "used": used,
    }
    return page(request, "theme_delete.html", context)


# --- funders --------------------------------------------------------------------------------------------------


def funder_crumbs(*more) -> list:
    return [(_("Financeurs"), reverse("national:funders")), *more]


@national_page
def funders(request: HttpRequest) -> HttpResponse:
    q = query_text(request)
    rows = Organisation.objects.filter(kind=Organisation.Kind.FUNDER)
    if q:
        rows = rows.filter(Q(name__icontains=q) | Q(siren=q.replace(" ", "")))
    rows = rows.annotate(line_count=count_of(FundingLine.objects.all(), "funder")).order_by("name", "pk")
    current, numbers = paginate(request, rows)
    context = {"title": _("Financeurs"), "crumbs": funder_crumbs(), "page": current, "page_numbers": numbers, "q": q}
    return page(request, "funders.html", context)


@national_page
def funder_add(request: HttpRequest) -> HttpResponse:
    context = {
        "title": _("Ajouter un financeur"),
        "crumbs": funder_crumbs((_("Ajouter"), None)),
        "cancel_url": reverse("national:funders"),
    }

    def save(form):
        return national.create_funder(request.user, form.data_for_service(), reason=reason_of(form))

    return create_page(request, FunderCreateForm, save, context, lambda f: reverse("national:funders"))


@national_page
def funder_edit(request: HttpRequest, pk: int) -> HttpResponse:
    funder = get_object_or_404(Organisation, pk=pk, kind=Organisation.Kind.FUNDER)

    def save(form, record):
        return national.edit_funder(
            request.user, record, form.data_for_service(), base=form.base, reason=reason_of(form)
        )

    editor = Editor(FunderEditForm, national.FUNDER_FIELDS, lambda f: {"name": f.name, "siren": f.siren}, save)
    context = {
        "title": _("Modifier le financeur « %(name)s »") % {"name": funder.name},
        "crumbs": funder_crumbs((funder.name, None)),
        "cancel_url": reverse("national:funders"),
        "timeline": timeline(funder, national.FUNDER_HISTORY),
    }
    return edit_page(request, editor, funder, context, lambda f: reverse("national:funders"))


# --- territories ----------------------------------------------------------------------------------------------


def territory_crumbs(*more) -> list:
    return [(_("Territoires"), reverse("national:territories")), *more]


@national_page
def territories(request: HttpRequest) -> HttpResponse:
    q, region = query_text(request), query_text(request, "region")
    rows = Territory.objects.all()
    for term in search_terms(q):
        rows = rows.filter(search_text__contains=term)
    if region:
        rows = rows.filter(region_id=region)
    rows = (
        rows.select_related("region")
        .prefetch_related(Prefetch("phases", queryset=ProgrammePhase.objects.order_by("starts_on")))
        .annotate(epci_count=count_of(Territory.epcis.through.objects.all(), "territory"))
        .order_by("name", "code")
    )
    current, numbers = paginate(request, rows)
    context = {
        "title": _("Territoires d'industrie"),
        "crumbs": territory_crumbs(),
        "page": current,
        "page_numbers": numbers,
        "q": q,
        "region": region,
        "regions": Region.objects.filter(Exists(Territory.objects.filter(region=OuterRef("pk")))).order_by("name"),
    }
    return page(request, "territories.html", context)


def territory_initial(territory: Territory) -> dict[str, Any]:
    state = national.territory_version(territory)
    return {"name": territory.name, "phases": [int(pk) for pk in state["phases"]], "epcis": state["epcis"]}


@national_page
def territory_add(request: HttpRequest) -> HttpResponse:
    context = {
        "title": _("Ajouter un territoire d'industrie"),
        "crumbs": territory_crumbs((_("Ajouter"), None)),
        "cancel_url": reverse("national:territories"),
        "intro": _(
            "Pour créer ou mettre à jour de nombreux territoires, importez plutôt le fichier de l'ANCT "
            "(commande import_territories) : les règles sont les mêmes."
        ),
    }

    def save(form):
        return national.create_territory(request.user, form.data_for_service(), reason=reason_of(form))

    latest = ProgrammePhase.objects.order_by("-starts_on").values_list("pk", flat=True).first()
    initial = {"phases": [latest]} if latest else None
    return create_page(request, TerritoryCreateForm, save, context, territory_done, initial=initial)


def territory_done(territory: Territory) -> str:
    return reverse("national:territory_edit", args=[territory.code])


def territory_timeline(territory: Territory) -> list[TimelineEntry]:
    """The territory's name, phases and perimeter changes, newest first; the perimeter as the EPCI added and
    removed, by name (the history keeps their SIRENs)."""
    entries = list(history_of(territory).order_by("-at", "-id"))
    rows = timeline(territory, TERRITORY_HISTORY)  # the same entries, in the same order
    sirens = {s for e in entries for state in (e.before or {}, e.after or {}) for s in state.get("epcis", [])}
    names = dict(Epci.objects.filter(siren__in=sirens).values_list("siren", "name"))

    def listed(codes: set[str]) -> str:
        return ", ".join(sorted(f"{names.get(code, code)} ({code})" for code in codes))

    shown = []
    for entry, row in zip(entries, rows, strict=True):
        before, after = set((entry.before or {}).get("epcis", [])), set((entry.after or {}).get("epcis", []))
        if entry.after is not None and after - before:
            row.changes.append(Change(_("EPCI ajoutés au périmètre"), EMPTY, listed(after - before)))
        if entry.before is not None and entry.after is not None and before - after:
            row.changes.append(Change(_("EPCI retirés du périmètre"), EMPTY, listed(before - after)))
        if row.changes:
            shown.append(row)
    return shown


@national_page
def territory_edit(request: HttpRequest, code: str) -> HttpResponse:
    territory = get_object_or_404(Territory.objects.select_related("region"), code=code)

    def save(form, record):
        return national.edit_territory(
            request.user, record, form.data_for_service(), base=form.base, reason=reason_of(form)
        )

    editor = Editor(TerritoryEditForm, national.TERRITORY_FIELDS, territory_initial, save)
    context = {
        "title": _("Modifier le territoire %(name)s") % {"name": territory.name},
        "crumbs": territory_crumbs((territory.name, None)),
        "cancel_url": reverse("national:territories"),
        "territory": territory,
        "timeline": territory_timeline(territory),
    }
    return edit_page(request, editor, territory, context, territory_done)


# --- users ----------------------------------------------------------------------------------------------------


def user_crumbs(*more) -> list:
    return [(_("Utilisateurs"), reverse("national:users")), *more]


def with_roles(users: QuerySet[User]) -> QuerySet[User]:
    roles = Role.objects.select_related(*national.SCOPE_RELATIONS).order_by("kind", "pk")
    return users.prefetch_related(Prefetch("roles", queryset=roles))


@national_page
def users(request: HttpRequest) -> HttpResponse:
    q, kind = query_text(request), query_text(request, "role")
    rows = User.objects.all()
    if q:
        rows = rows.filter(email__icontains=q)
    if kind in Role.Kind.values:
        rows = rows.filter(Exists(Role.objects.filter(user=OuterRef("pk"), kind=kind)))
    current, numbers = paginate(request, with_roles(rows).order_by("email", "pk"))
    context = {
        "title": _("Utilisateurs"),
        "crumbs": user_crumbs(),
        "page": current,
        "page_numbers": numbers,
        "q": q,
        "role": kind,
        "role_choices": [(value, capfirst(label)) for value, label in Role.Kind.choices],
    }
    return page(request, "users.html", context)


@national_page
def user_invite(request: HttpRequest) -> HttpResponse:
    form = InviteForm(request.POST or None, initial={"kind": request.GET.get("role", "")})
    if request.method == "POST" and form.is_valid():
        try:
            invitation = national.invite_user(request.user, form.data_for_service(), reason=reason_of(form))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            report_invitation(request, invitation)
            return redirect("national:user", invitation.user.pk)
    context = {
        "title": _("Inviter une personne"),
        "crumbs": user_crumbs((_("Inviter"), None)),
        "cancel_url": reverse("national:users"),
        "form": form,
        "submit_label": _("Inviter"),
    }
    return page(request, "form.html", context)


def report_invitation(request: HttpRequest, invitation: national.Invitation) -> None:
    email = invitation.user.email
    if not invitation.role_added:
        messages.info(request, _("%(email)s a déjà ce rôle : rien n'a changé.") % {"email": email})
        return
    if invitation.needs_password and send_invitation(request, invitation.user):
        messages.success(
            request,
            _("Compte de %(email)s créé avec son rôle. Un courriel l'invite à choisir son mot de passe.")
            % {"email": email}
            if invitation.created
            else _("Rôle ajouté. %(email)s n'a pas encore choisi de mot de passe : un courriel l'y invite de nouveau.")
            % {"email": email},
        )
    else:
        messages.success(request, _("Rôle ajouté au compte de %(email)s.") % {"email": email})


def send_invitation(request: HttpRequest, target: User) -> bool:
    return national.send_invitation(target, domain=request.get_host(), use_https=request.is_secure())


def managed_user(pk: int) -> User:
    return get_object_or_404(with_roles(User.objects.all()), pk=pk)


@dataclass
class UserHistoryEntry:
    at: Any
    author: str
    action: str
    reason: str
    changes: list[str]


def user_history(target: User) -> list[UserHistoryEntry]:
    """The account's history as people read it: the roles given and removed, deactivation and reactivation."""
    rows = []
    for entry in history_of(target).order_by("-at", "-id"):
        before, after = entry.before or {}, entry.after or {}
        changes = [
            _("Rôle ajouté : %(role)s") % {"role": r}
            for r in after.get("roles", [])
            if r not in before.get("roles", [])
        ]
        changes += [
            _("Rôle retiré : %(role)s") % {"role": r}
            for r in before.get("roles", [])
            if r not in after.get("roles", [])
        ]
        if entry.before is not None and before.get("is_active") != after.get("is_active"):
            changes.append(_("Compte réactivé") if after.get("is_active") else _("Compte désactivé"))
        author = entry.user_label or entry.get_source_display()
        action = _("Invitation") if entry.before is None else capfirst(entry.get_action_display())
        rows.append(UserHistoryEntry(entry.at, author, action, entry.reason, changes))
    return rows


ROLE_FORM_IDS = "role_%s"


def user_page(request: HttpRequest, target: User, role_form=None, status: int = 200) -> HttpResponse:
    context = {
        "title": target.email,
        "crumbs": user_crumbs((target.email, None)),
        "target": target,
        "roles": list(target.roles.all()),
        "role_form": role_form or RoleForm(auto_id=ROLE_FORM_IDS),
        "reason_form": ReasonForm(auto_id="account_%s"),  # two forms of one page: distinct field ids
        "is_self": target.pk == request.user.pk,
        "forgotten": is_forgotten(target),
        "history": user_history(target),
    }
    return page(request, "user_detail.html", context, status=status)


@national_page
def user_detail(request: HttpRequest, pk: int) -> HttpResponse:
    return user_page(request, managed_user(pk))


@require_POST
@national_page
def user_role_add(request: HttpRequest, pk: int) -> HttpResponse:
    target = managed_user(pk)
    form = RoleForm(request.POST, auto_id=ROLE_FORM_IDS)
    if form.is_valid():
        data = form.data_for_service()
        try:
            invitation = national.invite_user(request.user, {**data, "email": target.email}, reason=reason_of(form))
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            report_invitation(request, invitation)
            return redirect("national:user", target.pk)
    return user_page(request, target, role_form=form)


@require_POST
@national_page
def user_role_remove(request: HttpRequest, pk: int, role: int) -> HttpResponse:
    target = managed_user(pk)
    held = get_object_or_404(Role.objects.select_related(*national.SCOPE_RELATIONS), pk=role, user=target)
    form = ReasonForm(request.POST)
    try:
        national.remove_role(request.user, target, held, reason=reason_of(form) if form.is_valid() else "")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        messages.success(request, _("Rôle retiré : %(role)s.") % {"role": held})
    return redirect("national:user", target.pk)


@require_POST
@national_page
def user_activation(request: HttpRequest, pk: int) -> HttpResponse:
    target = managed_user(pk)
    active = request.POST.get("active") == "1"
    form = ReasonForm(request.POST)
    try:
        national.set_active(request.user, target, active, reason=reason_of(form) if form.is_valid() else "")
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
    else:
        done = _("Le compte %(email)s est réactivé.") if active else _("Le compte %(email)s est désactivé.")
        messages.success(request, done % {"email": target.email})
    return redirect("national:user", target.pk)


@require_POST
@national_page
def user_invitation(request: HttpRequest, pk: int) -> HttpResponse:
    target = managed_user(pk)
    if send_invitation(request, target):
        messages.success(
            request, _("Un courriel invite de nouveau %(email)s à choisir son mot de passe.") % {"email": target.email}
        )
    else:
        messages.error(request, _("Ce compte est désactivé : aucun courriel n'a été envoyé."))
    return redirect("national:user", target.pk)


# --- featured projects ----------------------------------------------------------------------------------------


def featured_crumbs(*more) -> list:
    return [(_("Projets remarquables"), reverse("national:featured")), *more]


def project_cards(projects: QuerySet[Project]) -> QuerySet[Project]:
    """What a project row shows (territory, themes), in a fixed number of queries."""
    return projects.select_related("territory", "territory__region").prefetch_related(
        Prefetch("themes", queryset=Theme.objects.order_by("position", "code"))
    )


@national_page
def featured(request: HttpRequest) -> HttpResponse:
    q = query_text(request)
    chosen = list(
        project_cards(Project.objects.filter(featured=True)).order_by(
            "-public", F("reported_on").desc(nulls_last=True), "id_projet"
        )
    )
    candidates = filter_projects(Project.objects.filter(public=True, featured=False), q=q)
    current, numbers = paginate(request, in_list_order(project_cards(candidates)))
    context = {
        "title": _("Projets remarquables"),
        "crumbs": featured_crumbs(),
        "chosen": chosen,
        "shown": sum(p.public for p in chosen),
        "max": national.MAX_FEATURED,
        "page": current,
        "page_numbers": numbers,
        "q": q,
    }
    return page(request, "featured.html", context)


def featuring_timeline(project: Project) -> list[TimelineEntry]:
    """When the project was featured on the home or withdrawn from it, by whom and why, newest first."""
    rows = []
    for entry in history_of(project).order_by("-at", "-id"):
        before, after = (entry.before or {}).get("featured"), (entry.after or {}).get("featured")
        if before is None or after is None or before == after:
            continue
        action = _("Mis en avant sur l'accueil") if after else _("Retiré de l'accueil")
        author = entry.user_label or entry.get_source_display()
        rows.append(TimelineEntry(entry.at, author, action, entry.get_source_display(), entry.reason))
    return rows


@national_page
def featured_project(request: HttpRequest, id_projet: str) -> HttpResponse:
    project = get_object_or_404(project_cards(Project.objects.all()), id_projet=id_projet)
    form_class = UnfeatureForm if project.featured else FeatureForm
    form = form_class(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            national.set_featured(request.user, project, not project.featured, reason=form.cleaned_data["reason"])
        except ValidationError as error:
            add_service_errors(form, error)
        else:
            done = (
                _("« %(title)s » n'est plus mis en avant.")
                if project.featured
                else _("« %(title)s » figure désormais parmi les projets remarquables de l'accueil.")
            )
            messages.success(request, done % {"title": project.title})
            return redirect("national:featured")
    context = {
        "title": project.title,
        "crumbs": featured_crumbs((project.title, None)),
        "project": project,
        "themes": list(project.themes.all()),
        "form": form,
        "full": not project.featured and national.featured_count() >= national.MAX_FEATURED,
        "timeline": featuring_timeline(project),
        "max": national.MAX_FEATURED,
    }
    return page(request, "featured_project.html", context)
