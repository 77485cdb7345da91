"""Back-office pages of a territory's governance, contracts and meetings, and of a Region's meetings.

Views stay thin: they resolve the territory or Region (unknown: 404), check that the user manages it (otherwise
403: territories and Regions are public records), parse a form and call a service (`governance`, `contracts`,
`meetings`), which checks the permission again, applies the rules, writes and records the history.

Documents: a contract's PDF is a public document of the programme and is served to everybody; a meeting's minutes
only to those who may read the meeting (`permissions.meetings_visible_to`: everybody once it is past and public).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.db.models.fields.files import FieldFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.text import capfirst, slugify
from django.utils.translation import gettext as _

from pilotage.core.uploads import human_size, max_upload_bytes
from pilotage.geo.models import Region

from . import contracts, governance, meetings
from .editing import NEW_DOCUMENT, EditConflict, record_state
from .forms import (
    ContractCreateForm,
    ContractEditForm,
    EndMandateForm,
    InstallationForm,
    MeetingCreateForm,
    MeetingEditForm,
    MemberCreateForm,
    MemberEditForm,
    public_initial,
)
from .governance import fr_date
from .models import Contract, GovernanceMember, Meeting, Territory
from .permissions import meetings_visible_to, require_region, require_territory
from .timeline import Values, timeline

# Room for the other fields of a form next to its document.
FORM_OVERHEAD_BYTES = 1024 * 1024


# --- access ---------------------------------------------------------------------------------------------------


def back_office(view: Callable) -> Callable:
    """Login required; a PermissionDenied raised by the view or a service answers the French 403 page."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        try:
            return view(request, *args, **kwargs)
        except PermissionDenied as exc:
            message = str(exc) or _("Cette page n'entre pas dans le périmètre de vos rôles.")
            return render(
                request, "programme/manage/forbidden.html", {"title": _("Accès refusé"), "message": message}, status=403
            )

    return login_required(wrapper)


def managed_territory(request: HttpRequest, code: str) -> Territory:
    territory = get_object_or_404(Territory.objects.select_related("region"), code=code)
    require_territory(request.user, territory)
    return territory


@dataclass
class Place:
    """Where meetings are held: a territory, or a Region for its regional meetings."""

    territory: Territory | None
    region: Region

    @property
    def code(self) -> str:
        return self.territory.code if self.territory else self.region.code

    @property
    def name(self) -> str:
        return self.territory.name if self.territory else self.region.name

    @property
    def level(self) -> str:
        return "territory" if self.territory else "region"

    def url(self, name: str, *args) -> str:
        prefix = "" if self.territory else "region_"
        return reverse(f"manage:{prefix}{name}", args=[self.code, *args])

    def meetings(self):
        if self.territory:
            return Meeting.objects.filter(territory=self.territory)
        return Meeting.objects.filter(region=self.region)

    def breadcrumb(self, *more: tuple[str, str | None]) -> list[tuple[str, str | None]]:
        if self.territory:
            return territory_breadcrumb(self.territory, (_("Réunions"), self.url("meetings")), *more)
        return [(self.region.name, None), (_("Réunions régionales"), self.url("meetings")), *more]


def place_of(request: HttpRequest, level: str, code: str, *, manage: bool = True) -> Place:
    if level == "territory":
        territory = get_object_or_404(Territory.objects.select_related("region"), code=code)
        if manage:
            require_territory(request.user, territory)
        return Place(territory, territory.region)
    region = get_object_or_404(Region, code=code)
    if manage:
        require_region(request.user, region.code)
    return Place(None, region)


def territory_breadcrumb(territory: Territory, *more: tuple[str, str | None]) -> list[tuple[str, str | None]]:
    return [(territory.name, reverse("programme:detail", args=[territory.code])), *more]


def last_is_current(breadcrumb: list[tuple[str, str | None]]) -> list[tuple[str, str | None]]:
    """The DSFR breadcrumb's last item is the current page, without a link."""
    return [*breadcrumb[:-1], (breadcrumb[-1][0], None)] if breadcrumb else breadcrumb


def page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    context["breadcrumb"] = last_is_current(context.get("breadcrumb", []))
    return render(request, f"programme/manage/{template}", context, status=status)


# --- editing a record -----------------------------------------------------------------------------------------


def body_too_large(request: HttpRequest) -> bool:
    """An oversized upload is refused as a whole, with its reason, and nothing of it is kept. (Django has already
    spooled it to a temporary file by then: the reverse proxy's body-size limit is what spares the bandwidth.)"""
    try:
        length = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return False
    return length > max_upload_bytes() + FORM_OVERHEAD_BYTES


def add_service_errors(form, error: ValidationError) -> None:
    """A service's errors on the fields they name (or on the whole form)."""
    if not hasattr(error, "error_dict"):
        form.add_error(None, error)
        return
    for name, errors in error.message_dict.items():
        form.add_error(name if name in form.fields else None, errors)


def conflict_context(conflict: EditConflict) -> dict[str, Any]:
    values = Values(type(conflict.obj), [conflict.base, conflict.current, conflict.submitted])
    rows = [
        {
            "label": values.label(f.name),
            "base": values.show(f.name, f.base),
            "current": values.show(f.name, f.current),
            "submitted": values.show(f.name, f.submitted),
            "theirs": f.base != f.current,
        }
        for f in conflict.fields
    ]
    last = conflict.last_change
    return {
        "rows": rows,
        "author": last.user_label if last else "",
        "at": last.at if last else None,
        "document_lost": NEW_DOCUMENT in conflict.submitted.values(),
    }


@dataclass
class Editor:
    """How a page edits one kind of record: its form, the record's values, the service that saves it."""

    form_class: type
    fields: tuple[str, ...]  # the versioned fields
    initial: Callable[[Any], dict]
    save: Callable[[Any, Any], Any]  # (form, record) → saved record
    form_kwargs: Callable[[Any], dict] = lambda record: {}


def edit_page(
    request: HttpRequest, editor: Editor, record: Any, context: dict[str, Any], success: Callable[[Any], str]
) -> HttpResponse:
    """GET shows the form on the record's current version; POST saves, or shows errors or the edit conflict."""

    def fresh_form(current):
        kwargs = editor.form_kwargs(current)
        return editor.form_class(initial=editor.initial(current), state=record_state(current, editor.fields), **kwargs)

    status = 200
    if request.method != "POST":
        form = fresh_form(record)
    elif body_too_large(request):
        form = fresh_form(record)
        context["form_error"] = too_large_message()
    else:
        form = editor.form_class(request.POST, request.FILES, **editor.form_kwargs(record))
        if form.is_valid():
            try:
                saved = editor.save(form, record)
            except ValidationError as error:
                add_service_errors(form, error)
            except EditConflict as conflict:
                current = type(record).objects.get(pk=record.pk)
                form = fresh_form(current)
                context["conflict"] = conflict_context(conflict)
                status = 409
            else:
                messages.success(request, _("Modifications enregistrées."))
                return redirect(success(saved))
    return page(request, "form.html", {**context, "form": form}, status=status)


def create_page(
    request: HttpRequest,
    form_class: type,
    save: Callable[[Any], Any],
    context: dict[str, Any],
    success: Callable[[Any], str],
    *,
    initial: dict | None = None,
    **form_kwargs,
) -> HttpResponse:
    if request.method != "POST":
        form = form_class(initial=initial, **form_kwargs)
    elif body_too_large(request):
        form = form_class(initial=initial, **form_kwargs)
        context["form_error"] = too_large_message()
    else:
        form = form_class(request.POST, request.FILES, **form_kwargs)
        if form.is_valid():
            try:
                saved = save(form)
            except ValidationError as error:
                add_service_errors(form, error)
            else:
                messages.success(request, _("Enregistré."))
                return redirect(success(saved))
    return page(request, "form.html", {**context, "form": form})


def too_large_message() -> str:
    return _("Le fichier envoyé dépasse la taille maximale de %(limit)s : rien n'a été enregistré.") % {
        "limit": human_size(max_upload_bytes())
    }


def reason_of(form) -> str:
    return (form.cleaned_data.get("reason") or "").strip()


# --- governance -----------------------------------------------------------------------------------------------


def governance_context(territory: Territory, *more) -> dict[str, Any]:
    return {
        "territory": territory,
        "section": "governance",
        "breadcrumb": territory_breadcrumb(territory, (_("Gouvernance"), gov_url(territory)), *more),
    }


def gov_url(territory: Territory) -> str:
    return reverse("manage:governance", args=[territory.code])


@back_office
def governance_page(request: HttpRequest, code: str) -> HttpResponse:
    territory = managed_territory(request, code)
    today = timezone.localdate()
    members = list(territory.governance_members.order_by("full_name", "pk"))
    current = [m for m in members if m.ends_on is None or m.ends_on >= today]
    past = sorted((m for m in members if m not in current), key=lambda m: m.ends_on, reverse=True)
    by_role = [
        {
            "code": role,
            "label": capfirst(label),
            "members": [m for m in current if m.role == role],
            "binome": role in governance.BINOME_ROLES,
        }
        for role, label in GovernanceMember.Role.choices
    ]
    return page(
        request,
        "governance.html",
        {
            **governance_context(territory),
            "title": _("Gouvernance — %(territory)s") % {"territory": territory.name},
            "by_role": by_role,
            "past": past,
            "today": today,
            "installation_timeline": timeline(territory, governance.INSTALLATION_FIELDS, only_changes=True),
        },
    )


@back_office
def installation_edit(request: HttpRequest, code: str) -> HttpResponse:
    territory = managed_territory(request, code)

    def save(form, record):
        return governance.set_governance_installed_on(
            request.user, record, form.cleaned_data["governance_installed_on"], base=form.base, reason=reason_of(form)
        )

    editor = Editor(
        InstallationForm,
        governance.INSTALLATION_FIELDS,
        lambda t: {"governance_installed_on": t.governance_installed_on},
        save,
    )
    context = {
        **governance_context(territory, (_("Date d'installation"), None)),
        "title": _("Date d'installation de la gouvernance — %(territory)s") % {"territory": territory.name},
        "cancel_url": gov_url(territory),
    }
    return edit_page(request, editor, territory, context, lambda t: gov_url(t))


def member_url(member: GovernanceMember, name: str = "member") -> str:
    return reverse(f"manage:{name}", args=[member.territory.code, member.pk])


def managed_member(request: HttpRequest, code: str, pk: int) -> tuple[Territory, GovernanceMember]:
    territory = managed_territory(request, code)
    member = get_object_or_404(territory.governance_members.all(), pk=pk)
    member.territory = territory
    return territory, member


@back_office
def member_add(request: HttpRequest, code: str) -> HttpResponse:
    territory = managed_territory(request, code)
    context = {
        **governance_context(territory, (_("Ajouter un membre"), None)),
        "title": _("Ajouter un membre à la gouvernance — %(territory)s") % {"territory": territory.name},
        "cancel_url": gov_url(territory),
    }
    role = request.GET.get("role")
    initial = {"role": role} if role in GovernanceMember.Role.values else None

    def save(form):
        return governance.add_member(request.user, territory, form.data_for_service(), reason=reason_of(form))

    return create_page(request, MemberCreateForm, save, context, lambda m: member_url(m), initial=initial)


@back_office
def member_detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    territory, member = managed_member(request, code, pk)
    return page(
        request,
        "member_detail.html",
        {
            **governance_context(territory, (member.full_name, None)),
            "title": member.full_name,
            "member": member,
            "current": member.ends_on is None or member.ends_on >= timezone.localdate(),
            "timeline": timeline(member, governance.MEMBER_HISTORY),
        },
    )


@back_office
def member_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    territory, member = managed_member(request, code, pk)

    def save(form, record):
        record.territory = territory
        return governance.edit_member(
            request.user, record, form.data_for_service(), base=form.base, reason=reason_of(form)
        )

    editor = Editor(
        MemberEditForm,
        governance.MEMBER_FIELDS,
        lambda m: {name: getattr(m, name) for name in governance.MEMBER_FIELDS},
        save,
    )
    context = {
        **governance_context(territory, (member.full_name, member_url(member)), (_("Modifier"), None)),
        "title": _("Modifier un membre de la gouvernance : %(name)s") % {"name": member.full_name},
        "cancel_url": member_url(member),
    }
    return edit_page(request, editor, member, context, lambda m: member_url(m))


@back_office
def member_end(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    territory, member = managed_member(request, code, pk)

    def save(form, record):
        record.territory = territory
        return governance.end_mandate(
            request.user, record, ends_on=form.cleaned_data["ends_on"], base=form.base, reason=reason_of(form)
        )

    editor = Editor(EndMandateForm, governance.MEMBER_FIELDS, lambda m: {}, save)
    context = {
        **governance_context(territory, (member.full_name, member_url(member)), (_("Fin du mandat"), None)),
        "title": _("Mettre fin au mandat de %(name)s") % {"name": member.full_name},
        "intro": _(
            "%(name)s, %(role)s. Le membre ne figurera plus dans la gouvernance en fonction à partir du "
            "lendemain de cette date ; il reste dans l'historique."
        )
        % {"name": member.full_name, "role": member.get_role_display()},
        "cancel_url": member_url(member),
        "submit_label": _("Mettre fin au mandat"),
    }
    return edit_page(request, editor, member, context, lambda m: gov_url(territory))


# --- contracts ------------------------------------------------------------------------------------------------


def contracts_url(territory: Territory) -> str:
    return reverse("manage:contracts", args=[territory.code])


def contract_url(contract: Contract, name: str = "contract") -> str:
    return reverse(f"manage:{name}", args=[contract.territory.code, contract.pk])


def contracts_context(territory: Territory, *more) -> dict[str, Any]:
    crumb = (_("Protocoles et contrats"), contracts_url(territory))
    return {"territory": territory, "section": "contracts", "breadcrumb": territory_breadcrumb(territory, crumb, *more)}


def signing_meetings(territory: Territory):
    """The meetings a contract of this territory may have been signed at: the territory's and its Region's."""
    return Meeting.objects.filter(Q(territory=territory) | Q(region_id=territory.region_id)).order_by("-held_on")


@back_office
def contracts_page(request: HttpRequest, code: str) -> HttpResponse:
    territory = managed_territory(request, code)
    phases = list(territory.phases.order_by("starts_on"))
    items = territory.contracts.select_related("phase", "signed_at_meeting").order_by("phase__starts_on", "kind")
    by_key = {(c.phase_id, c.kind): c for c in items}
    rows = []
    for phase in sorted({*phases, *(c.phase for c in by_key.values())}, key=lambda p: p.starts_on):
        for kind, label in Contract.Kind.choices:
            contract = by_key.get((phase.pk, kind))
            rows.append({"phase": phase, "kind": kind, "label": capfirst(label), "contract": contract})
    return page(
        request,
        "contracts.html",
        {
            **contracts_context(territory),
            "title": _("Protocoles et contrats — %(territory)s") % {"territory": territory.name},
            "rows": rows,
        },
    )


@back_office
def contract_add(request: HttpRequest, code: str) -> HttpResponse:
    territory = managed_territory(request, code)
    phases = territory.phases.order_by("starts_on")
    latest = phases.last()
    initial = {"phase": latest.pk if latest else None}
    initial |= {k: request.GET[k] for k in ("phase", "kind") if request.GET.get(k)}
    context = {
        **contracts_context(territory, (_("Ajouter"), None)),
        "title": _("Ajouter un protocole ou un contrat — %(territory)s") % {"territory": territory.name},
        "cancel_url": contracts_url(territory),
        "multipart": True,
    }

    def save(form):
        return contracts.create_contract(request.user, territory, form.data_for_service(), reason=reason_of(form))

    return create_page(
        request,
        ContractCreateForm,
        save,
        context,
        lambda c: contract_url(c),
        initial=initial,
        phases=phases,
        meetings=signing_meetings(territory),
    )


def managed_contract(request: HttpRequest, code: str, pk: int) -> tuple[Territory, Contract]:
    territory = managed_territory(request, code)
    contract = get_object_or_404(territory.contracts.select_related("phase", "signed_at_meeting"), pk=pk)
    contract.territory = territory
    return territory, contract


@back_office
def contract_detail(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    territory, contract = managed_contract(request, code, pk)
    return page(
        request,
        "contract_detail.html",
        {
            **contracts_context(territory, (contract_title(contract), None)),
            "title": contract_title(contract),
            "contract": contract,
            "timeline": timeline(contract, contracts.CONTRACT_HISTORY),
        },
    )


def contract_title(contract: Contract) -> str:
    return _("%(kind)s %(phase)s") % {"kind": capfirst(contract.get_kind_display()), "phase": contract.phase.code}


@back_office
def contract_edit(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    territory, contract = managed_contract(request, code, pk)

    def save(form, record):
        record.territory = territory
        return contracts.edit_contract(
            request.user, record, form.data_for_service(), base=form.base, reason=reason_of(form)
        )

    editor = Editor(
        ContractEditForm,
        contracts.CONTRACT_FIELDS,
        lambda c: {
            "phase": c.phase_id,
            "kind": c.kind,
            "signed_on": c.signed_on,
            "signatories": c.signatories,
            "signed_at_meeting": c.signed_at_meeting_id,
        },
        save,
        lambda c: {
            "phases": territory.phases.order_by("starts_on"),
            "meetings": signing_meetings(territory),
            "has_document": bool(c.document),
        },
    )
    context = {
        **contracts_context(territory, (contract_title(contract), contract_url(contract)), (_("Modifier"), None)),
        "title": _("Modifier : %(contract)s") % {"contract": contract_title(contract)},
        "cancel_url": contract_url(contract),
        "multipart": True,
        "current_document": contract_document_url(contract) if contract.document else None,
    }
    return edit_page(request, editor, contract, context, lambda c: contract_url(c))


def contract_document_url(contract: Contract) -> str:
    return reverse("manage:contract_document", args=[contract.territory.code, contract.pk])


def contract_document(request: HttpRequest, code: str, pk: int) -> HttpResponse:
    """A contract's signed document: public, like the contract itself."""
    contract = get_object_or_404(Contract.objects.select_related("phase", "territory"), pk=pk, territory__code=code)
    name = f"{contract.get_kind_display()}-{contract.territory.code}-{contract.phase.code}"
    return serve_pdf(contract.document, name, public=True)


def serve_pdf(document: FieldFile, name: str, *, public: bool) -> FileResponse:
    if not document:
        raise Http404(_("Aucun document n'est joint."))
    try:
        handle = document.open("rb")
    except FileNotFoundError as error:
        raise Http404(_("Document introuvable.")) from error
    response = FileResponse(handle, content_type="application/pdf", filename=f"{slugify(name)}.pdf")
    response["Cache-Control"] = "public, max-age=3600" if public else "private, no-store"
    return response


# --- meetings -------------------------------------------------------------------------------------------------


def meetings_context(place: Place, *more) -> dict[str, Any]:
    return {
        "territory": place.territory,
        "region": place.region,
        "place": place,
        "section": "meetings",
        "breadcrumb": place.breadcrumb(*more),
    }


def meeting_place(place: Place, meeting: Meeting) -> Meeting:
    meeting.territory, meeting.region = place.territory, (None if place.territory else place.region)
    return meeting


@back_office
def meetings_page(request: HttpRequest, code: str, level: str) -> HttpResponse:
    place = place_of(request, level, code)
    items = list(place.meetings().order_by("-held_on", "-pk"))
    today = timezone.localdate()
    title = (
        _("Réunions — %(territory)s") % {"territory": place.name}
        if place.territory
        else _("Réunions régionales — %(region)s") % {"region": place.name}
    )
    for meeting in items:
        meeting.url, meeting.edit_url = place.url("meeting", meeting.pk), place.url("meeting_edit", meeting.pk)
    groups = [
        {
            "heading": _("Réunions à venir"),
            "items": [m for m in items if m.held_on > today][::-1],
            "id": "upcoming-meetings",
            "empty": _("Aucune réunion annoncée."),
        },
        {
            "heading": _("Réunions passées"),
            "items": [m for m in items if m.held_on <= today],
            "id": "past-meetings",
            "empty": _("Aucune réunion enregistrée."),
        },
    ]
    context = {**meetings_context(place), "title": title, "groups": groups, "add_url": place.url("meeting_add")}
    return page(request, "meetings.html", context)


@back_office
def meeting_add(request: HttpRequest, code: str, level: str) -> HttpResponse:
    place = place_of(request, level, code)
    context = {
        **meetings_context(place, (_("Ajouter une réunion"), None)),
        "title": _("Ajouter une réunion — %(place)s") % {"place": place.name},
        "cancel_url": place.url("meetings"),
        "multipart": True,
    }
    kind = request.GET.get("kind")
    initial = {"kind": kind} if kind in Meeting.Kind.values else None

    def save(form):
        where = {"territory": place.territory} if place.territory else {"region": place.region}
        return meetings.create_meeting(request.user, form.data_for_service(), reason=reason_of(form), **where)

    return create_page(request, MeetingCreateForm, save, context, lambda m: place.url("meeting", m.pk), initial=initial)


def managed_meeting(request: HttpRequest, code: str, level: str, pk: int) -> tuple[Place, Meeting]:
    place = place_of(request, level, code)
    return place, meeting_place(place, get_object_or_404(place.meetings(), pk=pk))


def meeting_title(meeting: Meeting) -> str:
    return _("%(kind)s du %(date)s") % {
        "kind": capfirst(meeting.get_kind_display()),
        "date": fr_date(meeting.held_on),
    }


@back_office
def meeting_detail(request: HttpRequest, code: str, level: str, pk: int) -> HttpResponse:
    place, meeting = managed_meeting(request, code, level, pk)
    signed = list(meeting.signed_contracts.select_related("territory", "phase").order_by("territory__name", "kind"))
    return page(
        request,
        "meeting_detail.html",
        {
            **meetings_context(place, (meeting_title(meeting), None)),
            "title": meeting_title(meeting),
            "meeting": meeting,
            "upcoming": meeting.held_on > timezone.localdate(),
            "signed_contracts": signed,
            "document_url": place.url("meeting_document", meeting.pk) if meeting.minutes_document else None,
            "edit_url": place.url("meeting_edit", meeting.pk),
            "timeline": timeline(meeting, meetings.MEETING_HISTORY),
        },
    )


@back_office
def meeting_edit(request: HttpRequest, code: str, level: str, pk: int) -> HttpResponse:
    place, meeting = managed_meeting(request, code, level, pk)

    def save(form, record):
        return meetings.edit_meeting(
            request.user,
            meeting_place(place, record),
            form.data_for_service(),
            base=form.base,
            reason=reason_of(form),
        )

    editor = Editor(
        MeetingEditForm,
        meetings.MEETING_FIELDS,
        lambda m: {
            **{name: getattr(m, name) for name in ("kind", "held_on", "place", "participants", "minutes", "decisions")},
            "public": public_initial(m),
        },
        save,
        lambda m: {"has_document": bool(m.minutes_document)},
    )
    context = {
        **meetings_context(place, (meeting_title(meeting), place.url("meeting", meeting.pk)), (_("Modifier"), None)),
        "title": _("Modifier : %(meeting)s") % {"meeting": meeting_title(meeting)},
        "cancel_url": place.url("meeting", meeting.pk),
        "multipart": True,
        "current_document": place.url("meeting_document", meeting.pk) if meeting.minutes_document else None,
    }
    return edit_page(request, editor, meeting, context, lambda m: place.url("meeting", m.pk))


def meeting_document(request: HttpRequest, code: str, level: str, pk: int) -> HttpResponse:
    """A meeting's minutes (PDF): to everybody once the meeting is past and public, else to those who read it."""
    place = place_of(request, level, code, manage=False)
    visible = meetings_visible_to(request.user)
    meeting = get_object_or_404(visible.filter(pk__in=place.meetings().values("pk")), pk=pk)
    public = meetings_visible_to(None).filter(pk=meeting.pk).exists()
    return serve_pdf(meeting.minutes_document, f"{meeting_title(meeting)}-{place.code}", public=public)
