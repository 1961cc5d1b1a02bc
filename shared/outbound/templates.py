"""``{{variable}}`` templates: strict, single pass, no expressions."""
from __future__ import annotations

import re
from typing import Mapping

from .errors import BadRequest

# {{name}} or {{ name }}; a name is an identifier-like word. Anything else between braces is
# left as it is (no expressions, no code).
PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*\}\}")

Scalar = str | int | float | bool


def placeholders(template: str | None) -> list[str]:
    return PLACEHOLDER.findall(template or "")


def as_text(value: Scalar) -> str:
    if isinstance(value, bool):  # JSON's spelling, not Python's
        return "true" if value else "false"
    return str(value)


def render(template: str | None, variables: Mapping[str, Scalar]) -> str | None:
    """Substitute each placeholder once. ``re.sub`` never rescans what it inserted, so a
    value containing ``{{x}}`` reaches the voice runtime verbatim."""
    if template is None:
        return None
    return PLACEHOLDER.sub(lambda m: as_text(variables[m.group(1)]), template)


def render_all(templates: Mapping[str, str | None], variables: Mapping[str, Scalar]) -> dict[str, str | None]:
    """Render several templates; a 400 names every missing variable, in order, at once."""
    missing: list[str] = []
    for template in templates.values():
        for name in placeholders(template):
            if name not in variables and name not in missing:
                missing.append(name)
    if missing:
        raise BadRequest(f"Missing template variables: {', '.join(missing)}")
    return {key: render(template, variables) for key, template in templates.items()}
