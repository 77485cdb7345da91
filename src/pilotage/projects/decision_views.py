"""Funding decisions, for funders (their own lines) and State services (their region's projects' lines).

Mounted under `espace/financements/` (namespace `funding_decisions`). Every write goes through
`services.decide_funding_line`, which checks the permission, the project's version and requires a reason.
"""

from django import forms
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from pilotage.programme.forms import DateInput, capitalised
from pilotage.programme.plan_views import back_office

from .edit_views import attempt, conflict_context
from .forms import AmountField, ProjectVersionForm
from .models import FundingLine
from .services import decide_funding_line, funding_lines_decidable_by


class DecisionForm(ProjectVersionForm):
    granted = AmountField(label=_("Montant accordé (€)"), help_text=_("En euros ; vide ou 0 pour un refus."))
    decided_on = forms.DateField(
        label=_("Date de la décision"), widget=DateInput(), help_text=_("Date de la décision du financeur.")
    )
    status = forms.ChoiceField(label=_("Décision"), choices=capitalised(FundingLine.Status.choices))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].required = True
        self.fields["reason"].help_text = _("Obligatoire : la référence ou le motif de la décision (comité, arrêté…).")
        self.refresh_fields()


def _lines(request: HttpRequest):
    return funding_lines_decidable_by(request.user).select_related("project__territory", "funder")


@back_office
def decisions(request: HttpRequest) -> HttpResponse:
    """The lines the user decides on, those awaiting a decision first."""
    lines = _lines(request).order_by("decided_on", "project__id_projet", "pk")
    waiting = request.GET.get("etat") != "toutes"
    if waiting:
        lines = lines.filter(status=FundingLine.Status.REQUESTED)
    page = Paginator(lines, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "projects/decisions/list.html",
        {
            "title": _("Décisions de financement"),
            "page": page,
            "waiting": waiting,
            "breadcrumb": [(_("Mon espace"), reverse("workspace")), (_("Décisions de financement"), None)],
        },
    )


@back_office
def decide(request: HttpRequest, pk: int) -> HttpResponse:
    line = _lines(request).filter(pk=pk).first()
    if line is None:
        raise Http404(_("Ligne de financement introuvable."))
    project = line.project
    initial = {"granted": line.granted, "decided_on": line.decided_on, "status": line.status}
    form = DecisionForm(request.POST or None, initial=initial, version=project.version)
    context = {
        "title": _("Décision de financement"),
        "line": line,
        "project": project,
        "breadcrumb": [
            (_("Mon espace"), reverse("workspace")),
            (_("Décisions de financement"), reverse("funding_decisions:list")),
            (project.title, None),
        ],
    }
    if request.method == "POST":
        outcome = attempt(
            form,
            lambda: decide_funding_line(
                request.user,
                line,
                form.cleaned_data["granted"],
                form.cleaned_data["decided_on"],
                form.cleaned_data["status"],
                form.reason,
                expected_version=form.expected_version,
            ),
        )
        if outcome.ok:
            return redirect(reverse("funding_decisions:list"))
        if outcome.conflict:
            submitted = {k: form.cleaned_data.get(k) for k in ("granted", "decided_on", "status")}
            context["conflict"] = conflict_context(outcome.conflict, submitted)
            line.refresh_from_db()
            form = DecisionForm(
                initial={"granted": line.granted, "decided_on": line.decided_on, "status": line.status},
                version=outcome.conflict.project.version,
            )
            context["form"] = form
            return render(request, "projects/decisions/decide.html", context, status=409)
    context["form"] = form
    return render(request, "projects/decisions/decide.html", context, status=422 if form.errors else 200)
