#!/usr/bin/env python3
"""Fuzz the HTTP API with Schemathesis, against its own OpenAPI document, anonymously and with a token per role.
`make fuzz` runs it (`FUZZ_ARGS="--max-examples N"`); tests/test_api_fuzz.py runs a short version of it.

    .venv/bin/python scripts/fuzz_api.py                          # every role, 10 examples per operation and phase
    .venv/bin/python scripts/fuzz_api.py --max-examples 5 --roles anonymous,territory_team

Steps: a throwaway database (a SQLite file under /tmp, or a new database on the PostgreSQL server of DATABASE_URL,
dropped at the end), `migrate`, `load_referential`, `load_demo --scale 1`, one user and API token per role
(`create_user --token`), the real server (`pilotage serve`, gunicorn) on a free 127.0.0.1 port, then one
`schemathesis run` per role against http://127.0.0.1:PORT/api/v1/openapi.json with every check (no server error,
answers valid against the schema, status codes and headers documented, valid input accepted, invalid input refused,
authentication enforced…) plus `pinned_error_format` (scripts/fuzz_checks.py). Known identifiers of the demo data
(projects and funding lines of the team's territory, territories, themes…) are offered to the generator through
Schemathesis dictionaries, so that the writes reach the rules and not only the 404. Everything stays on loopback and
stops by itself (`--max-time` per role, timeouts on every step); the server's access log is also read for any 5xx.

Prints the cases run per role and in total; exits 1 on any failure (0 otherwise).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
ROLES = ["anonymous", "territory_team", "project_owner", "funder", "state_services", "regional_pilot", "national"]
CHECKS = Path(__file__).resolve().with_name("fuzz_checks.py")  # loaded by Schemathesis (SCHEMATHESIS_HOOKS)


# --- the throwaway database, the users, the server --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def run(args: list[str], env: dict, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    result = subprocess.run(args, env=env, timeout=timeout, capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        sys.stderr.write(result.stdout[-3000:] + result.stderr[-3000:])
        raise SystemExit(f"Échec de : {' '.join(args[:3])} (code {result.returncode})")
    return result


@dataclass
class Database:
    """A database of our own: a SQLite file in `workdir`, or a new database on DATABASE_URL's PostgreSQL server."""

    url: str
    drop: str | None = None  # PostgreSQL database to drop at the end
    admin_url: str | None = None

    @classmethod
    def create(cls, workdir: Path) -> Database:
        base = os.environ.get("DATABASE_URL", "")
        if not base.startswith(("postgres://", "postgresql://")):
            return cls(url=f"sqlite:///{workdir / 'fuzz.sqlite3'}")
        import psycopg

        parts = urlsplit(base)
        name = f"pilotage_fuzz_{secrets.token_hex(4)}"
        admin = urlunsplit(parts._replace(path="/postgres"))
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
        return cls(url=urlunsplit(parts._replace(path=f"/{name}")), drop=name, admin_url=admin)

    def remove(self) -> None:
        if self.drop:
            import psycopg

            with psycopg.connect(self.admin_url, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.drop}" WITH (FORCE)')


# Run inside Django (`pilotage shell -c`): picks the scopes of the roles and the identifiers the fuzzer may use,
# creates one user and token per role with `create_user --token`, prints it all as JSON.
PREPARE = r"""
import io, json
from django.core.management import call_command
from django.db.models import Count, Q
from pilotage.programme.models import ProgrammePhase, Territory, Theme
from pilotage.projects.models import FundingLine, Indicator, Project

territory = (Territory.objects.annotate(n=Count("projects", filter=Q(projects__funding_lines__isnull=False)))
             .order_by("-n", "code").first())
lines = FundingLine.objects.filter(project__territory=territory).select_related("funder", "project")
funder = (lines.values("funder__name").annotate(n=Count("id")).order_by("-n", "funder__name").first())["funder__name"]
own = Project.objects.filter(territory=territory, funding_lines__isnull=False).order_by("id_projet").distinct()
owned = own.first()
others = Project.objects.exclude(territory__region=territory.region)
projects = (list(own.values_list("id_projet", flat=True)[:12])
            + list(others.filter(public=False).order_by("id_projet").values_list("id_projet", flat=True)[:3])
            + list(others.filter(public=True).order_by("id_projet").values_list("id_projet", flat=True)[:3]))
scopes = {"territory_team": territory.code, "project_owner": owned.id_projet, "funder": funder,
          "state_services": territory.region_id, "regional_pilot": territory.region_id, "national": None}
tokens = {}
for role, scope in scopes.items():
    out = io.StringIO()
    call_command("create_user", f"{role}@fuzz.invalid", role=role, scope=scope, token=True, stdout=out)
    tokens[role] = out.getvalue().strip().splitlines()[-1]
print(json.dumps({
    "scopes": scopes,
    "tokens": tokens,
    "values": {
        "projects": projects,
        "lines": sorted(lines.filter(project__id_projet__in=projects[:12]).values_list("pk", flat=True))[:40],
        "territories": [territory.code] + list(Territory.objects.exclude(region=territory.region)
                                                .order_by("code").values_list("code", flat=True)[:3]),
        "regions": [territory.region_id, "44", "11"],
        "phases": list(ProgrammePhase.objects.order_by("code").values_list("code", flat=True)),
        "themes": list(Theme.objects.order_by("code").values_list("code", flat=True)),
        "indicators": list(Indicator.objects.order_by("code").values_list("code", flat=True)),
        "communes": list(territory.epcis.values_list("communes__insee", flat=True).order_by("communes__insee")[:5]),
        "funders": [funder, "Bpifrance"],
        "sirens": [s for s in own.values_list("owner__siren", flat=True)[:5] if s],
    },
}))
"""

# Which generated parameter or body field takes which known values (in positive cases only: Schemathesis keeps a
# dictionary value only where it is valid for the schema).
BINDINGS = {
    "path.id_projet": "projects",
    "path.line_id": "lines",
    "path.code": "territories",
    "path.key": "table_schemas",
    "query.territory": "territories",
    "query.region": "regions",
    "query.phase": "phases",
    "query.theme": "themes",
    "query.owner_siren": "sirens",
    "body.territory": "territories",
    "body.phase": "phases",
    "body.themes[*]": "themes",
    "body.commune": "communes",
    "body.indicator": "indicators",
    "body.funder": "funders",
}


def schemathesis_config(values: dict) -> str:
    dictionaries = {**values, "table_schemas": ["projects", "funding", "territories"]}
    lines = [
        # A schema-valid write may still break a business rule that no schema can state (a reason required to change
        # an amount, a commune outside the territory, a status that cannot go back…): 422, with French messages.
        "[checks.positive_data_acceptance]",
        'expected-statuses = ["2xx", "3xx", "401", "403", "404", "409", "422", "429", "5xx"]',
        "",
    ]
    for name, items in dictionaries.items():
        if items:
            lines += [f"[dictionaries.{name}]", f"values = {json.dumps(list(dict.fromkeys(items)))}", ""]
    lines.append("[parameters]")
    for key, name in BINDINGS.items():
        if dictionaries.get(name):
            lines.append(f'"{key}" = {{ dictionary = "{name}", probability = 0.6 }}')
    return "\n".join(lines) + "\n"


class Server:
    """`pilotage serve` (gunicorn) on a free loopback port, in its own process group."""

    def __init__(self, env: dict, log: Path, workers: int) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        self.process = subprocess.Popen(
            [
                str(BIN / "pilotage"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(workers),
            ],
            env=env,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def wait(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"Le serveur s'est arrêté :\n{self.log.read_text()[-3000:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v1/openapi.json", timeout=5) as answer:
                    if answer.status == 200:
                        return
            except OSError:
                time.sleep(0.3)
        raise SystemExit("Le serveur n'a pas répondu à temps.")

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, 9)
                self.process.wait()

    def answers(self) -> list[tuple[str, int, str]]:
        """(method, status, line) of each request in the access log (gunicorn: `"GET /path HTTP/1.1" 200 …`)."""
        found = (ACCESS.search(line) for line in self.log.read_text(errors="replace").splitlines())
        return [(m.group(1), int(m.group(2)), m.string) for m in found if m]


ACCESS = re.compile(r'"([A-Z]+) [^"]*" (\d{3}) ')


# --- one Schemathesis run per role ------------------------------------------------------------------------------------


@dataclass
class RoleResult:
    role: str
    cases: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0


def fuzz_role(role: str, token: str | None, server: Server, workdir: Path, env: dict, options) -> RoleResult:
    report = workdir / f"{role}.json"
    output = workdir / f"{role}.txt"
    args = [
        str(BIN / "schemathesis"),
        "--config-file",
        str(workdir / "schemathesis.toml"),
        "run",
        f"{server.url}/api/v1/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(options.max_examples),
        "--seed",
        str(options.seed),
        "--workers",
        "1",
        "--request-timeout",
        "30",
        "--phases",
        options.phases,
        "--generation-database",
        "none",
        "--no-color",
        "--report",
        "json",
        "--report-json-path",
        str(report),
    ]
    if token:
        args += ["--header", f"Authorization: Bearer {token}"]
    started = time.monotonic()
    hooks_env = {**env, "SCHEMATHESIS_HOOKS": str(CHECKS)}
    with output.open("w") as out:
        try:
            code = subprocess.run(
                args, env=hooks_env, cwd=workdir, stdout=out, stderr=subprocess.STDOUT, timeout=options.max_time
            ).returncode
        except subprocess.TimeoutExpired:
            code = None
    result = RoleResult(role, seconds=time.monotonic() - started)
    if code is None:
        result.failures.append(f"arrêté au bout de {options.max_time} s (--max-time) ; voir {output}")
    if not report.exists():
        result.failures.append(f"pas de rapport (code {code}) ; voir {output}")
        return result
    data = json.loads(report.read_text())
    result.cases = data["test_cases"]["generated"]
    result.failures += [
        f"{f['code']} {f['title']} ×{f['count']} : {', '.join(f['operations'])}" for f in data["failures"]
    ]
    result.failures += [f"erreur : {e['title']} ×{e['count']}" for e in data["errors"]]
    if code not in (0, None) and not result.failures:
        result.failures.append(f"schemathesis a fini avec le code {code} ; voir {output}")
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--max-examples", type=int, default=10, help="cas par opération et par phase (défaut : 10)")
    parser.add_argument(
        "--roles", default=",".join(ROLES), help=f"rôles, séparés par des virgules : {', '.join(ROLES)}"
    )
    parser.add_argument("--seed", type=int, default=2018, help="graine de Schemathesis (défaut : 2018)")
    parser.add_argument(
        "--max-time", type=int, default=600, help="durée maximale par rôle, en secondes, au-delà : échec (défaut : 600)"
    )
    parser.add_argument("--workers", type=int, default=2, help="processus du serveur (défaut : 2)")
    parser.add_argument(
        "--projects-per-territory", type=int, default=None, help="données de démonstration réduites (essais rapides)"
    )
    parser.add_argument(
        "--phases", default="examples,coverage,fuzzing,stateful", help="phases de Schemathesis (défaut : toutes)"
    )
    parser.add_argument("--min-cases", type=int, default=0, help="échoue si moins de cas ont été joués au total")
    parser.add_argument("--json", type=Path, help="écrit aussi le résumé dans ce fichier JSON")
    parser.add_argument("--keep", action="store_true", help="garde le dossier de travail (rapports, journal)")
    options = parser.parse_args(argv)
    roles = [r.strip() for r in options.roles.split(",") if r.strip()]
    unknown = set(roles) - set(ROLES)
    if unknown:
        parser.error(f"rôles inconnus : {', '.join(sorted(unknown))}")

    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="pilotage-fuzz-"))
    database = Database.create(workdir)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PILOTAGE_", "SCHEMATHESIS_"))}
    env.update(
        DATABASE_URL=database.url,
        DEBUG="0",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1,localhost",
        PYTHONUNBUFFERED="1",
        NO_PROXY="127.0.0.1,localhost",
        # The fuzzer sends bad tokens on purpose: the lock of a network after too many (429) would hide the rest.
        PILOTAGE_API_TOKEN_FAILURES_PER_IP="0",
        # gunicorn answers a request line over 4094 bytes itself (414, in HTML): lifted so that the application
        # answers whatever the fuzzer sends (in production, the reverse proxy in front has such limits too).
        GUNICORN_CMD_ARGS="--limit-request-line 0 --limit-request-field_size 0",
    )
    pilotage = str(BIN / "pilotage")
    server = None
    try:
        run([pilotage, "migrate", "--noinput", "-v", "0"], env, timeout=600)
        run([pilotage, "load_referential"], env, timeout=600)
        demo = [pilotage, "load_demo", "--scale", "1"]
        if options.projects_per_territory is not None:
            demo += ["--projects-per-territory", str(options.projects_per_territory)]
        run(demo, env, timeout=900)
        prepared = json.loads(run([pilotage, "shell", "-c", PREPARE], env, timeout=300).stdout.strip().splitlines()[-1])
        (workdir / "schemathesis.toml").write_text(schemathesis_config(prepared["values"]))
        server = Server(env, workdir / "server.log", options.workers)
        server.wait()
        print(f"Serveur {server.url} ; base {database.url.split('://')[0]} ; dossier {workdir}")
        print("Périmètres : " + ", ".join(f"{r} = {s}" for r, s in prepared["scopes"].items() if s), flush=True)
        results = []
        for role in roles:
            result = fuzz_role(role, prepared["tokens"].get(role), server, workdir, env, options)
            results.append(result)
            status = "OK" if not result.failures else f"{len(result.failures)} échec(s)"
            print(f"  {role:<16} {result.cases:>6} cas  {result.seconds:6.1f} s  {status}", flush=True)
            for failure in result.failures:
                print(f"      - {failure}")
        server.stop()
        answers = server.answers()
        logged = [line for _, status, line in answers if status >= 500]
    finally:
        if server is not None:
            server.stop()
        database.remove()

    total = sum(r.cases for r in results)
    writes = [status for method, status, _ in answers if method in ("POST", "PUT", "PATCH", "DELETE")]
    print(
        f"Requêtes vues par le serveur : {len(answers)}, dont {len(writes)} écritures "
        f"({sum(200 <= s < 300 for s in writes)} acceptées, {sum(400 <= s < 500 for s in writes)} refusées en 4xx)."
    )
    failures = sum(len(r.failures) for r in results) + len(logged)
    for line in logged[:20]:
        print(f"  5xx dans le journal du serveur : {line}")
    if total < options.min_cases:
        print(f"Trop peu de cas : {total} < {options.min_cases}.")
        failures += 1
    print(
        f"Total : {total} cas sur {len(results)} rôle(s), {failures} échec(s), en {time.monotonic() - started:.0f} s."
    )
    if options.json:
        summary = {
            "roles": {
                r.role: {"cases": r.cases, "failures": r.failures, "seconds": round(r.seconds, 1)} for r in results
            },
            "total": total,
            "server_errors": logged,
            "failures": failures,
        }
        options.json.write_text(json.dumps(summary, ensure_ascii=False, indent=2))
    if options.keep or failures:
        print(f"Rapports et journal du serveur : {workdir}")
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
