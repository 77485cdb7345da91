"""Write use cases of accounts: users, their roles and scopes."""

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import transaction

from .models import Role, User

SCOPE_HELP = {
    Role.Kind.NATIONAL: "aucun périmètre",
    Role.Kind.REGIONAL_PILOT: "code INSEE de la région",
    Role.Kind.STATE_SERVICES: "code INSEE de la région",
    Role.Kind.TERRITORY_TEAM: "identifiant id_ti du territoire",
    Role.Kind.PROJECT_OWNER: "identifiant id_projet du projet",
    Role.Kind.FUNDER: "nom du financeur",
}


def resolve_scope(kind: str, code: str | None) -> dict:
    """The scope fields of a role from the code given on the command line or in a form."""
    from pilotage.geo.models import Region
    from pilotage.programme.models import Territory
    from pilotage.projects.models import Organisation, Project

    if kind not in Role.Kind.values:
        raise ValidationError(f"Rôle inconnu : {kind}. Rôles possibles : {', '.join(Role.Kind.values)}.")
    if kind == Role.Kind.NATIONAL:
        if code:
            raise ValidationError("Le rôle national n'a pas de périmètre : retirez --scope.")
        return {}
    if not code:
        raise ValidationError(f"Le rôle {kind} demande un périmètre (--scope) : {SCOPE_HELP[kind]}.")
    code = code.strip()
    if kind in (Role.Kind.REGIONAL_PILOT, Role.Kind.STATE_SERVICES):
        region = Region.objects.filter(pk=code).first()
        if region is None:
            raise ValidationError(f"Région inconnue : {code} (attendu : code INSEE de la région, par ex. 44).")
        return {"region": region}
    if kind == Role.Kind.TERRITORY_TEAM:
        territory = Territory.objects.filter(code=code.lower()).first()
        if territory is None:
            raise ValidationError(f"Territoire inconnu : {code} (attendu : id_ti, par ex. ti-4401).")
        return {"territory": territory}
    if kind == Role.Kind.PROJECT_OWNER:
        project = Project.objects.filter(id_projet=code).first()
        if project is None:
            raise ValidationError(f"Projet inconnu : {code} (attendu : id_projet).")
        return {"project": project}
    organisation = Organisation.objects.filter(name__iexact=code).first()
    if organisation is None:
        organisation = Organisation.objects.create(name=code, kind=Organisation.Kind.FUNDER)
    return {"organisation": organisation}


@transaction.atomic
def create_or_update_user(email: str, kind: str, scope_code: str | None = None, password: str | None = None):
    """Create the user if needed and give them the role; returns (user, created, role_added)."""
    email = User.objects.normalize_email(email.strip()).lower()
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ValidationError(f"Adresse électronique invalide : {email}") from exc
    scope = resolve_scope(kind, scope_code)
    user, created = User.objects.get_or_create(email=email, defaults={"username": email})
    if password:
        validate_password(password, user)  # the rules of every password form (AUTH_PASSWORD_VALIDATORS)
        user.set_password(password)
        user.save()
    elif created:
        user.set_unusable_password()
        user.save()
    _, role_added = Role.objects.get_or_create(user=user, kind=kind, **scope)
    return user, created, role_added
