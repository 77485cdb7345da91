"""The API's error format, pinned in PRODUCT.md: {"error": {"code", "message", "details"}}."""

from typing import Any

from ninja import Schema


def error_body(code: str, message: str, details: Any = None) -> dict:
    return {"error": {"code": code, "message": message, "details": details}}


# The same format as a schema, so that the OpenAPI document describes every error answer.
class ErrorDetail(Schema):
    code: str
    message: str
    details: Any = None


class ErrorOut(Schema):
    error: ErrorDetail
