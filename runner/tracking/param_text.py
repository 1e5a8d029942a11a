"""A value as the text MLflow holds for it as a param, and that text read back as the value.

Param values are text that reads well side by side in the UI's compare view: scalars as JSON
(`1.0`, `0`), strings as they are, a table or a vector on one line (`-1 -1; -1 1; 1 -1; 1 1`),
exactly. Plain Python.
"""

from __future__ import annotations

import json
from typing import Any


def param_text(value: Any) -> str:
    """A param's text: strings as they are, a list on one line (rows split by "; "), any other
    value as JSON."""
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)) and value:
        if all(isinstance(row, (list, tuple)) for row in value):
            return "; ".join(" ".join(map(exact, row)) for row in value)
        return " ".join(map(exact, value))
    return json.dumps(value)


def exact(value: float) -> str:
    """Exact, and whole numbers whole: -1 rather than -1.0, 0.1 as 0.1."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return str(int(value))
    return json.dumps(value)


def parse(text: str | None) -> int | float | str | None:
    """A scalar param's text as the value it was logged from: "3" → 3, "1.0" → 1.0, "or" → "or"."""
    if text is None:
        return None
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text
