"""Comparing QMP messages by shape: the core of the conformance tests.

Two servers conform when a client cannot tell them apart by structure:

- a return value has the same JSON types and, for objects, the same keys, at
  every depth (values may differ: a UUID, a timestamp, a version's micro);
- an error has the same `class` and the same `desc`, word for word;
- the events a command causes have the same names, in the same order;
- `id` is echoed with the same value.

Arrays are compared by the shape of their elements, merged over all elements:
an object element shape has every key that any element has, so a list of 50
machines and a list of 3 compare equal when their elements look alike. An
empty array carries no element shape; against a non-empty one that is a
difference, unless the path is in `ignore`.

    >>> shape_diff({"a": [1, 2]}, {"a": [3]})
    []
    >>> shape_diff({"a": 1}, {"a": "1", "b": None})
    ['$.a: integer vs string', '$: key b only in the second']

Paths look like `$.return.qemu.micro` and `$.return[].name`; `ignore` takes
fnmatch patterns of such paths (`$.return[].alias`).
"""
import json
from fnmatch import fnmatchcase

SCALAR_KINDS = ("null", "boolean", "integer", "number", "string")


def json_kind(value):
    """The JSON type of a decoded value. bool is tested before int: in Python
    True is an int, on the wire it is not."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    raise TypeError(f"not a JSON value: {value!r}")


# A shape is one of:
#   ("null",) ("boolean",) ("integer",) ("number",) ("string",)
#   ("array", element_shape_or_None)
#   ("object", {key: shape})
#   ("union", {kind: shape})  -- elements of one array with different kinds

def shape_of(value):
    kind = json_kind(value)
    if kind == "object":
        return ("object", {key: shape_of(member) for key, member in value.items()})
    if kind == "array":
        element = None
        for item in value:
            element = merge_shapes(element, shape_of(item))
        return ("array", element)
    return (kind,)


def _alternatives(shape):
    return dict(shape[1]) if shape[0] == "union" else {shape[0]: shape}


def merge_shapes(a, b):
    """The shape that describes values of shape a and values of shape b."""
    if a is None:
        return b
    if b is None:
        return a
    merged = _alternatives(a)
    for kind, shape in _alternatives(b).items():
        if kind not in merged:
            merged[kind] = shape
        elif kind == "object":
            members = dict(merged[kind][1])
            for key, member in shape[1].items():
                members[key] = merge_shapes(members.get(key), member)
            merged[kind] = ("object", members)
        elif kind == "array":
            merged[kind] = ("array", merge_shapes(merged[kind][1], shape[1]))
    if len(merged) == 1:
        return next(iter(merged.values()))
    return ("union", merged)


def _describe(shape):
    if shape is None:
        return "nothing (empty array)"
    if shape[0] == "union":
        return "|".join(sorted(shape[1]))
    return shape[0]


def _ignored(path, ignore):
    return any(fnmatchcase(path, pattern) for pattern in ignore)


def diff_shapes(a, b, path="$", ignore=()):
    """Differences between two shapes, one readable line each."""
    if _ignored(path, ignore):
        return []
    if a is None and b is None:
        return []
    if a is None or b is None:
        return [f"{path}[]: {_describe(a)} vs {_describe(b)}"]
    if a[0] != b[0]:
        return [f"{path}: {_describe(a)} vs {_describe(b)}"]
    kind = a[0]
    if kind == "object":
        found = []
        for key, member in a[1].items():
            if key in b[1]:
                found += diff_shapes(member, b[1][key], f"{path}.{key}", ignore)
        for key in a[1]:
            if key not in b[1] and not _ignored(f"{path}.{key}", ignore):
                found.append(f"{path}: key {key} only in the first")
        for key in b[1]:
            if key not in a[1] and not _ignored(f"{path}.{key}", ignore):
                found.append(f"{path}: key {key} only in the second")
        return found
    if kind == "array":
        return diff_shapes(a[1], b[1], f"{path}[]", ignore) if (a[1] or b[1]) else []
    if kind == "union":
        if set(a[1]) != set(b[1]):
            return [f"{path}: {_describe(a)} vs {_describe(b)}"]
        found = []
        for k in a[1]:
            found += diff_shapes(a[1][k], b[1][k], path, ignore)
        return found
    return []


def shape_diff(a, b, ignore=(), path="$"):
    """Differences in shape between two decoded JSON values."""
    return diff_shapes(shape_of(a), shape_of(b), path, ignore)


def key_order_diff(a, b, path="$", ignore=()):
    """Where two objects list the same keys in a different order.

    QEMU's key order is visible on the wire (a client reading the stream sees
    it), so where both sides have the same keys they should have the same
    order. Only same-kind objects present on both sides are compared; arrays
    are compared element by element up to the shorter length."""
    if _ignored(path, ignore):
        return []
    found = []
    if isinstance(a, dict) and isinstance(b, dict):
        common_a = [k for k in a if k in b]
        common_b = [k for k in b if k in a]
        if common_a != common_b:
            found.append(f"{path}: key order {common_a} vs {common_b}")
        for key in common_a:
            found += key_order_diff(a[key], b[key], f"{path}.{key}", ignore)
    elif isinstance(a, list) and isinstance(b, list):
        for x, y in zip(a, b):
            found += key_order_diff(x, y, f"{path}[]", ignore)
    return found


def reply_diff(expected, actual, ignore=(), check_order=True):
    """Differences between two replies (return or error), as QMP clients see them."""
    found = []
    for side, message in (("first", expected), ("second", actual)):
        if ("return" in message) == ("error" in message):
            found.append(f"the {side} is not a reply: {message}")
    if found:
        return found
    if ("id" in expected) != ("id" in actual):
        found.append(f"$.id: present {'id' in expected} vs {'id' in actual}")
    elif "id" in expected and json.dumps(expected["id"]) != json.dumps(actual["id"]):
        # Compared as JSON text: in Python 1 == True == 1.0, on the wire not.
        found.append(f"$.id: {expected['id']!r} vs {actual['id']!r}")
    if "error" in expected or "error" in actual:
        if "error" not in expected or "error" not in actual:
            found.append(f"$: {'error' if 'error' in expected else 'return'} vs "
                         f"{'error' if 'error' in actual else 'return'}: {expected} vs {actual}")
            return found
        for member in ("class", "desc"):
            if expected["error"].get(member) != actual["error"].get(member):
                found.append(f"$.error.{member}: {expected['error'].get(member)!r} vs "
                             f"{actual['error'].get(member)!r}")
    # `id` was compared by value above; its shape would only say it again.
    found += shape_diff({k: v for k, v in expected.items() if k != "id"},
                        {k: v for k, v in actual.items() if k != "id"}, ignore)
    if check_order:
        found += key_order_diff(expected, actual, ignore=ignore)
    return found


def events_diff(expected, actual, ignore=(), check_order=True):
    """Differences between two event sequences: names in order, then the
    shape of each same-named pair (timestamp and data included)."""
    names_a = [event["event"] for event in expected]
    names_b = [event["event"] for event in actual]
    if names_a != names_b:
        return [f"events: {names_a} vs {names_b}"]
    found = []
    for index, (a, b) in enumerate(zip(expected, actual)):
        path = f"$events[{index}]"
        found += shape_diff(a, b, ignore, path)
        if check_order:
            found += key_order_diff(a, b, path, ignore)
    return found
