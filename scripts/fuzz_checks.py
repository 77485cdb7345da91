"""The checks of our own that `scripts/fuzz_api.py` adds to Schemathesis' (loaded through SCHEMATHESIS_HOOKS)."""

import json

import schemathesis

ERROR_KEYS = {"code", "message", "details"}


def error_format_problem(status: int, content_type: str, body: bytes) -> str | None:
    """What is wrong with an error answer in the pinned format `{"error": {"code", "message", "details"}}`, if any."""
    if status < 400:
        return None
    if not content_type.startswith("application/json"):
        return f"erreur {status} sans JSON (Content-Type : {content_type or 'absent'})"
    try:
        data = json.loads(body)
    except ValueError:
        return f"erreur {status} : corps qui n'est pas du JSON"
    if not isinstance(data, dict) or set(data) != {"error"} or not isinstance(data["error"], dict):
        return f"erreur {status} hors du format épinglé : {body[:200]!r}"
    error = data["error"]
    if set(error) != ERROR_KEYS:
        return f"erreur {status} : clés {sorted(error)} au lieu de {sorted(ERROR_KEYS)}"
    if not all(isinstance(error[key], str) and error[key].strip() for key in ("code", "message")):
        return f"erreur {status} : `code` et `message` doivent être des textes non vides"
    return None


@schemathesis.check
def pinned_error_format(ctx, response, case):
    """Every 4xx/5xx answer is JSON in the pinned error format (PRODUCT.md)."""
    content_type = response.headers.get("content-type", [""])[0]
    problem = error_format_problem(response.status_code, content_type, response.content or b"")
    if problem:
        raise AssertionError(problem)
