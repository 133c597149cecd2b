"""One way to report a pydantic validation error: every bad key, by its dotted path."""

from __future__ import annotations

from pydantic import ValidationError

__all__ = ["describe_validation_error"]


def describe_validation_error(what: str, error: ValidationError) -> str:
    """One paragraph naming each bad key, e.g. ``Invalid X: unknown key 'a'; key 'b.c': ...``."""
    problems = []
    for item in error.errors():
        key = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if item["type"] == "extra_forbidden":
            problems.append(f"unknown key '{key}'")
        else:
            problems.append(f"key '{key}': {item['msg']} (got {item.get('input')!r})")
    return f"Invalid {what}: " + "; ".join(problems) + "."
