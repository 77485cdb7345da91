"""The load test of `make loadtest` (scripts/loadtest.py), short: 10 users for 20 s against `pilotage serve`, with
an import beside it. No error, no lost update (docs/reliability.md)."""

import loadtest

USERS, SECONDS = 10, 20


def test_ten_users_for_twenty_seconds_without_error_nor_lost_update(databases, plan):
    url = databases.fresh("load")
    # Two hot projects: five users edit each one, so that edits conflict (409, read again, retry).
    small = {**plan, "hot": plan["hot"][:2]}
    with loadtest.Server(url, workers=3) as server:
        result = loadtest.run_load(
            url,
            server,
            small,
            users=USERS,
            duration=SECONDS,
            think=(0.05, 0.3),
            seed=3,
            import_at=SECONDS / 4,
        )
        tracebacks = server.log_tail(100_000).count("Traceback")
    summary = {k: result[k] for k in ("requests", "errors", "edits_acknowledged", "conflicts_409_retried", "p95_ms")}
    print("charge :", summary, "import :", result["import"])
    assert result["errors"] == 0, result["error_samples"]
    assert tracebacks == 0
    assert result["lost_updates"] == 0
    assert result["unexpected_writes"] == 0 and result["version_mismatches"] == []
    assert result["edits_acknowledged"] >= 10
    assert result["import"]["exit_status"] == 0 and result["import"]["projects_found"] == plan["import_rows"]
    assert result["requests"] >= 100
