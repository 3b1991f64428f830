"""Hypothesis strategies for hostile request bodies, shared by the suite's fuzzers.

`body_from_schema` turns an OpenAPI object schema into bodies that are sometimes valid and
often not; the rest supply what attackers and broken clients send: lone surrogates, NUL,
deep nesting, numbers JSON has no room for, bytes that are not UTF-8.
"""
import json
from urllib.parse import quote_from_bytes

from hypothesis import strategies as st

NASTY = ["\x00", "\ud800", "\udfff", "\u202e", "😀", "\ufeff", "\r\n", "'; DROP TABLE x;--", "<script>", "=1+1", "𠀀", " " * 3]
nasty_text = st.lists(st.one_of(st.text(max_size=12), st.sampled_from(NASTY)), max_size=5).map("".join)
json_scalars = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), nasty_text)
json_values = st.recursive(
    json_scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(nasty_text, inner, max_size=3), max_leaves=8,
)


def _conforming(prop: dict):
    if "enum" in prop:
        return st.sampled_from(prop["enum"])
    types = prop.get("type")
    types = types if isinstance(types, list) else [types]
    if "integer" in types:
        return st.integers(prop.get("minimum", -(2**31)), prop.get("maximum", 2**31))
    return st.text(min_size=prop.get("minLength", 0), max_size=prop.get("maxLength", 50))


def body_from_schema(schema: dict):
    """Objects over the schema's properties: each value conforming, hostile or missing; now and then an extra field."""
    fields = {name: st.one_of(_conforming(prop), json_values) for name, prop in schema["properties"].items()}
    return st.tuples(
        st.fixed_dictionaries({}, optional=fields),
        st.dictionaries(nasty_text, json_values, max_size=2),
    ).map(lambda parts: {**parts[1], **parts[0]})


def near_valid(valid: dict, schema: dict, *, unique: str):
    """A valid body with its `unique` field made fresh and up to two fields swapped for hostile values."""
    hostile = {name: json_values for name in schema["properties"]}
    return st.builds(
        lambda n, changes: {**valid, unique: f"137{n:08d}", "external_id": f"fuzz-{n}", **changes},
        st.integers(0, 10**8 - 1),
        st.fixed_dictionaries({}, optional=hostile).filter(lambda changes: len(changes) <= 2),
    )


def deep(n: int) -> str:
    return "[" * n + "]" * n


raw_json_texts = st.one_of(
    st.integers(1, 20000).map(deep),
    st.integers(1, 5000).map(lambda n: '{"a":' * n + "1" + "}" * n),
    st.sampled_from(['{"contact_name": "\\ud800", "phone": "13800138000"}', '{"\\udfff": 1}', "NaN", "[1e999]",
                     '{"contact_name": "a\\u0000b", "phone": "1"}', '{"industry_match": ' + "9" * 5000 + "}"]),
)


def json_bytes(value) -> bytes:
    """JSON text of any value; lone surrogates travel as \\ud800 escapes, as a real client would send them."""
    return json.dumps(value, ensure_ascii=True).encode()


raw_bodies = st.one_of(
    st.builds(json_bytes, json_values),
    raw_json_texts.map(str.encode),
    st.binary(min_size=1, max_size=300),
)
form_values = st.one_of(nasty_text.map(lambda text: text.encode("utf-8", "surrogatepass")), st.binary(max_size=40))


def form_encoded(fields: dict[str, bytes]) -> bytes:
    return "&".join(f"{quote_from_bytes(k.encode('utf-8', 'surrogatepass'))}={quote_from_bytes(v)}"
                    for k, v in fields.items()).encode()
