"""outbound.safe_json: the one parser for outside JSON. Each refusal is a JsonRefused (a 400's
sentence), never RecursionError, a bare ValueError from int(), inf or NaN."""
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from outbound.safe_json import MAX_BODY_BYTES, MAX_DEPTH, MAX_NUMBER_CHARS, JsonRefused, loads, loads_object, nesting_depth


@pytest.mark.parametrize("text,sentence", [
    ("[" * 5000 + "]" * 5000, "nested too deeply"),
    ('{"a":' * 5000 + "1" + "}" * 5000, "nested too deeply"),
    ("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1), "nested too deeply"),
    ("[" * 100_000, "nested too deeply"),  # unterminated, still refused before parsing
    ('{"x": ' + "9" * 5000 + "}", f"more than {MAX_NUMBER_CHARS} digits"),
    ("-" + "1" * 4301, f"more than {MAX_NUMBER_CHARS} digits"),
    ('{"x": 1e999}', "out of range"),
    ('{"x": -1e999}', "out of range"),
    ('{"x": 0.' + "1" * 5000 + "}", "out of range"),
    ('{"x": NaN}', "NaN, which is not JSON"),
    ('{"x": -Infinity}', "-Infinity, which is not JSON"),
    (b"\xff\xfe", "UTF-8"),
    ('{"x": "\\ud800"}', "unpaired surrogate"),
    ('{"x": "\\udfff\\ud800"}', "unpaired surrogate"),
    ('{"a": 1, "a": 2}', 'the key "a" twice'),
    ('{"o": {"b": 1, "b": 1}}', 'the key "b" twice'),
    ("", "must be a JSON object"),
    ('{"a": ', "must be a JSON object"),
    ('{"a": "\x00"}', "must be a JSON object"),  # a raw control character in a string
    ("x" * (MAX_BODY_BYTES + 1), f"at most {MAX_BODY_BYTES} bytes"),
])
def test_hostile_json_is_refused_with_a_sentence(text, sentence):
    with pytest.raises(JsonRefused, match=sentence.replace("(", r"\(")):
        loads(text)


@pytest.mark.parametrize("text,value", [
    ('{"a": [1, 2.5, "x", null, true, {"b": "c"}]}', {"a": [1, 2.5, "x", None, True, {"b": "c"}]}),
    ("[" * MAX_DEPTH + "]" * MAX_DEPTH, json.loads("[" * MAX_DEPTH + "]" * MAX_DEPTH)),
    ('{"agenda": "' + "[" * 5000 + '"}', {"agenda": "[" * 5000}),  # brackets inside strings do not nest
    ('{"a": "\\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[["}', {"a": '"' + "[" * 38}),
    ('{"a": "\\\\", "b": ' + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "}",  # "\\\\" ends no string
     {"a": "\\", "b": json.loads("[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1))}),
    ('{"x": "\\ud83d\\ude00"}', {"x": "\U0001F600"}),  # a paired surrogate escape is a character
    ('{"x": "\\\\ud800"}', {"x": "\\ud800"}),  # an escaped backslash, not an escape
    ('{"x": ' + "9" * MAX_NUMBER_CHARS + "}", {"x": int("9" * MAX_NUMBER_CHARS)}),
    ('{"x": 1e125, "y": -0.0, "z": "\\u0000"}', {"x": 1e125, "y": -0.0, "z": "\x00"}),
    (b'{"x": "\xc3\xa9"}', {"x": "\u00e9"}),
])
def test_ordinary_json_is_read_as_json_reads_it(text, value):
    assert loads(text) == value


def test_loads_object_wants_an_object():
    for text in ("[]", '"x"', "1", "null"):
        with pytest.raises(JsonRefused, match="must be a JSON object"):
            loads_object(text)
    with pytest.raises(JsonRefused, match="^next_token must be a JSON object$"):
        loads_object("[]", "next_token")


@settings(max_examples=300, deadline=None)
@given(st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
                    | st.text(), lambda children: st.lists(children) | st.dictionaries(st.text(), children),
                    max_leaves=30))
def test_the_depth_pre_scan_agrees_with_the_real_depth(value):
    text = json.dumps(value)

    def depth(node) -> int:
        if isinstance(node, list):
            return 1 + max((depth(n) for n in node), default=0)
        if isinstance(node, dict):
            return 1 + max((depth(n) for n in node.values()), default=0)
        return 0

    real = depth(value)
    scanned = nesting_depth(text)
    assert scanned == real or (scanned == 0 and text.count("[") + text.count("{") <= MAX_DEPTH)
