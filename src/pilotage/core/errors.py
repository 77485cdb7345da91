"""The API's error format, pinned in PRODUCT.md: {"error": {"code", "message", "details"}}."""

from typing import Any


def error_body(code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}
