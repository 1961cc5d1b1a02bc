import pytest

from outbound.errors import BadRequest
from outbound.templates import placeholders, render, render_all


def test_both_spellings_are_substituted():
    assert render("Hi {{name}} and {{ other }}", {"name": "Ann", "other": "Bo"}) == "Hi Ann and Bo"


def test_rendering_is_single_pass():
    # A value that looks like a placeholder is delivered verbatim, never expanded again.
    assert render("Hi {{name}}", {"name": "{{secret}}", "secret": "leak"}) == "Hi {{secret}}"


def test_scalars_render_as_json_spells_them():
    assert render("{{a}} {{b}} {{c}} {{d}}", {"a": True, "b": False, "c": 3, "d": 2.5}) == "true false 3 2.5"


def test_no_expressions_are_evaluated():
    text = "{{ 1 + 1 }} {{name.upper()}} {% if x %}"
    assert placeholders(text) == []
    assert render(text, {}) == text


def test_missing_variables_are_named_in_order_once():
    with pytest.raises(BadRequest) as err:
        render_all({"welcome_message": "Hi {{name}} at {{time}}", "agenda": "{{name}} {{place}}"}, {"time": "2pm"})
    assert err.value.detail == "Missing template variables: name, place"


def test_none_templates_stay_none():
    assert render_all({"welcome_message": None, "agenda": "x"}, {}) == {"welcome_message": None, "agenda": "x"}


def test_unused_variables_are_fine():
    assert render("plain", {"unused": "x"}) == "plain"
