"""What the public project page adds for those who may change the project, and the project's status steps."""

from django import template

from pilotage.projects.models import Project, ProjectStatusChange
from pilotage.projects.queries import projects_editable_by

register = template.Library()


@register.simple_tag(takes_context=True)
def project_editable(context, project: Project) -> bool:
    """Whether the signed-in user may change this project (`projects_editable_by`): one query, none for visitors."""
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return False
    return projects_editable_by(user).filter(pk=project.pk).exists()


@register.simple_tag
def status_steps(project: Project) -> list[ProjectStatusChange]:
    """The project's successive statuses, oldest first (who decided is not shown on the public page)."""
    return list(project.status_changes.only("status", "at", "project_id").order_by("at", "id"))
