"""Hypothesis properties of the pure request path: parsing never raises anything but a 400,
and rendering is single-pass and total."""
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from outbound.calls.models import parse_initiate_request
from outbound.errors import BadRequest
from outbound.templates import PLACEHOLDER, render, render_all

json_scalars = st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=30)
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=10), inner, max_size=4), max_leaves=12)
fields = st.sampled_from(["from_phone_number", "to_phone_number", "assistant_id", "welcome_message",
                          "agenda", "variables", "extra"])
bodies = st.dictionaries(fields, json_values, max_size=7)
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,8}", fullmatch=True)


@settings(max_examples=300, deadline=None)
@given(st.one_of(bodies.map(json.dumps), st.text(max_size=60), st.binary(max_size=60)))
def test_parsing_answers_a_request_or_a_400_never_a_crash(raw):
    try:
        request = parse_initiate_request(raw)
    except BadRequest as exc:
        assert exc.detail and "Traceback" not in exc.detail
    else:
        assert request.from_phone_number.startswith("+") and request.to_phone_number.startswith("+")


no_nul = st.text(alphabet=st.characters(blacklist_characters="\0"), max_size=20)  # \0 marks slots below


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(names, no_nul, max_size=5), st.lists(names, max_size=5), no_nul)
def test_rendering_is_single_pass_and_total(variables, used, filler):
    template = filler.replace("{", "").replace("}", "") + " ".join("{{%s}}" % n for n in used)
    missing = [n for n in used if n not in variables]
    try:
        out = render_all({"t": template}, variables)["t"]
    except BadRequest as exc:
        assert missing and exc.detail.startswith("Missing template variables: ")
        return
    assert not missing
    # Every placeholder became exactly its value, whatever the value contains (no re-expansion).
    assert out == render(template, variables)
    expected = template
    for name in used:
        expected = expected.replace("{{%s}}" % name, "\0" + name + "\0", 1)
    for name in used:
        expected = expected.replace("\0" + name + "\0", variables[name], 1)
    assert out == expected


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=60))
def test_values_that_look_like_placeholders_survive_verbatim(value):
    assert render("<{{v}}>", {"v": value}) == f"<{value}>"
    assert PLACEHOLDER.sub("", render("{{v}}", {"v": value})) == PLACEHOLDER.sub("", value)
