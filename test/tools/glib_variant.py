#!/usr/bin/python3
"""GLib's own GVariant implementation, driven over JSON lines, as an oracle for the TS codec.

Run with the system interpreter (it needs python3-gi): ``/usr/bin/python3 test/tools/glib_variant.py``.
One process serves many requests: each stdin line is one JSON request, answered by exactly one
stdout line, in order. Every request may carry an ``"id"``, echoed in the answer. A request that
fails is answered ``{"id": ..., "error": "..."}``; the process keeps going.

Requests
--------
``{"op": "hello"}``
    -> ``{"glib": "2.74.4", "python": "3.11.2"}``
``{"op": "encode", "type": T, "value": J, "byteswap": bool?}``
    GLib builds the value with its constructors (g_variant_new_*), then serialises it:
    -> ``{"hex": <normal-form bytes>, "swapped": <bytes of g_variant_byteswap(), if asked>}``
``{"op": "decode", "type": T, "hex": H}``
    ``g_variant_new_from_bytes(T, H, trusted=FALSE)``:
    -> ``{"normal": g_variant_is_normal_form(), "value": J, "normalHex": <GLib's serialisation of
    the value>, "readable": true}``. ``value`` is what GLib's getters return, defaults included for
    non-normal data. ``normalHex`` comes from rebuilding the value with GLib's constructors, since
    g_variant_get_normal_form() hands back the input itself whenever is_normal_form() says yes
    (and is_normal_form() passes a few inputs its serialiser never writes, e.g. "" as "(asas)").
    GLib aborts when it reads some untrusted data nested close to its depth limit of 128 (types
    deeper than 128 at top level; `()` and dict entries inside deep variants), so for those only
    ``normal`` is answered: ``{"normal": ..., "value": null, "normalHex": H or null, "readable": false}``.
``{"op": "byteswap", "type": T, "hex": H}``
    -> ``{"hex": <bytes of g_variant_byteswap(g_variant_new_from_bytes(T, H, FALSE))>}``
``{"op": "type", "type": T}``
    -> ``{"valid": g_variant_type_string_is_valid(T), "definite": bool}``

JSON form of values (J), directed by the type string
----------------------------------------------------
* ``b``: true/false. ``y n q i u h``: JSON numbers. ``x t``: decimal strings.
* ``d``: 16 hex digits, the IEEE-754 bits big-endian (exact, NaN payloads and -0 included).
* ``s o g``: JSON strings (any Unicode scalar values). ``ay``: hex string.
* ``aT``: list. ``a{KV}``: list of ``[k, v]`` pairs (order and duplicates kept).
* tuples and dict entries: lists.
* ``mT``: ``null`` for Nothing, ``[x]`` for Just x (at every level, so ``mmi`` Just Nothing is ``[null]``).
* ``v``: ``{"type": T, "value": J}``.
"""

import json
import struct
import sys

import gi

gi.require_version("GLib", "2.0")
from gi.repository import GLib  # noqa: E402

V = GLib.Variant
VT = GLib.VariantType

_builders = {}
_readers = {}


def _scan(t, i):
    """End index of the complete type starting at t[i] (the caller has validated t with GLib)."""
    c = t[i]
    if c in "am":
        return _scan(t, i + 1)
    if c in "({":
        close = ")" if c == "(" else "}"
        i += 1
        while t[i] != close:
            i = _scan(t, i)
        return i + 1
    return i + 1


def _members(t):
    """Member type strings of tuple or dict-entry type t.

    (PyGObject cannot walk GVariantType.first()/next(): it copies each borrowed member type,
    so next() runs off the copy. Splitting the string ourselves is simpler.)
    """
    out = []
    i = 1
    while t[i] not in ")}":
        j = _scan(t, i)
        out.append(t[i:j])
        i = j
    return out


def _bytes_of(v):
    b = v.get_data_as_bytes().get_data()
    return bytes(b) if b is not None else b""


# -- building (JSON -> GLib) -------------------------------------------------

_BASIC_BUILD = {
    "b": lambda j: V.new_boolean(bool(j)),
    "y": lambda j: V.new_byte(j),
    "n": lambda j: V.new_int16(j),
    "q": lambda j: V.new_uint16(j),
    "i": lambda j: V.new_int32(j),
    "u": lambda j: V.new_uint32(j),
    "h": lambda j: V.new_handle(j),
    "x": lambda j: V.new_int64(int(j)),
    "t": lambda j: V.new_uint64(int(j)),
    "d": lambda j: V.new_double(struct.unpack(">d", bytes.fromhex(j))[0]),
    "s": lambda j: V.new_string(j),
    "o": lambda j: V.new_object_path(j),
    "g": lambda j: V.new_signature(j),
}


def builder(t):
    f = _builders.get(t)
    if f is None:
        f = _compile_builder(t)
        _builders[t] = f
    return f


def _compile_builder(t):
    if t in _BASIC_BUILD:
        return _BASIC_BUILD[t]
    if t == "v":
        return lambda j: V.new_variant(builder(j["type"])(j["value"]))
    vt = VT.new(t)
    if t == "ay":
        ay = VT.new("ay")
        return lambda j: V.new_from_bytes(ay, GLib.Bytes.new(bytes.fromhex(j)), True)
    if vt.is_array():
        el = vt.element()
        build = builder(el.dup_string())
        return lambda j: V.new_array(el, [build(x) for x in j])
    if vt.is_maybe():
        el = vt.element()
        build = builder(el.dup_string())
        return lambda j: V.new_maybe(el, None if j is None else build(j[0]))
    if vt.is_dict_entry():
        bk, bv = (builder(m) for m in _members(t))
        return lambda j: V.new_dict_entry(bk(j[0]), bv(j[1]))
    if vt.is_tuple():
        builds = [builder(m) for m in _members(t)]
        n = len(builds)

        def build_tuple(j):
            if len(j) != n:
                raise ValueError(f"tuple {t} needs {n} members, got {len(j)}")
            return V.new_tuple(*[b(x) for b, x in zip(builds, j)])  # PyGObject override takes *elements

        return build_tuple
    raise ValueError(f"cannot build type {t!r}")


# -- reading (GLib -> JSON) --------------------------------------------------

def _hex_double(v):
    return struct.pack(">d", v.get_double()).hex()


_BASIC_READ = {
    "b": lambda v, d: v.get_boolean(),
    "y": lambda v, d: v.get_byte(),
    "n": lambda v, d: v.get_int16(),
    "q": lambda v, d: v.get_uint16(),
    "i": lambda v, d: v.get_int32(),
    "u": lambda v, d: v.get_uint32(),
    "h": lambda v, d: v.get_handle(),
    "x": lambda v, d: str(v.get_int64()),
    "t": lambda v, d: str(v.get_uint64()),
    "d": lambda v, d: _hex_double(v),
    "s": lambda v, d: v.get_string(),
    "o": lambda v, d: v.get_string(),
    "g": lambda v, d: v.get_string(),
}

MAX_DEPTH = 128  # G_VARIANT_MAX_RECURSION_DEPTH


class Unreadable(Exception):
    """GLib would abort reading this value (see _child)."""


def reader(t):
    """A function (value, depth) -> JSON for type t; depth is the value's nesting depth (top: 0)."""
    f = _readers.get(t)
    if f is None:
        f = _compile_reader(t)
        _readers[t] = f
    return f


def _child(v, depth, i, child_type_depth):
    # g_variant_get_child_value() on untrusted data asserts (aborting the process) that only a
    # variant can hold a child whose type depth is >= MAX_DEPTH - depth. Variants are checked
    # against their child's type, but `()` (depth 0) and dict entries (which count only their
    # value) let a variant pass with a child whose own members are too deep. Refuse to go there.
    if child_type_depth >= MAX_DEPTH - depth:
        raise Unreadable()
    return v.get_child_value(i)


def _read_variant(v, depth):
    c = v.get_variant()  # GLib substitutes `()` itself when the child is too deep
    ct = c.get_type_string()
    return {"type": ct, "value": reader(ct)(c, depth + 1)}


def _compile_reader(t):
    if t in _BASIC_READ:
        return _BASIC_READ[t]
    if t == "v":
        return _read_variant
    if t == "ay":
        return lambda v, d: _bytes_of(v).hex()
    vt = VT.new(t)
    if vt.is_array() or vt.is_maybe():
        et = vt.element().dup_string()
        read = reader(et)
        ed = _depth_of(et, 0)[0]
        if vt.is_array():
            return lambda v, d: [read(_child(v, d, i, ed), d + 1) for i in range(v.n_children())]
        return lambda v, d: None if v.n_children() == 0 else [read(_child(v, d, 0, ed), d + 1)]
    if vt.is_tuple() or vt.is_dict_entry():
        members = _members(t)
        reads = [(reader(m), _depth_of(m, 0)[0]) for m in members]
        return lambda v, d: [r(_child(v, d, i, md), d + 1) for i, (r, md) in enumerate(reads)]
    raise ValueError(f"cannot read type {t!r}")


# -- ops ---------------------------------------------------------------------

def _from_hex(t, h):
    if not VT.string_is_valid(t):
        raise ValueError(f"invalid type string {t!r}")
    return V.new_from_bytes(VT.new(t), GLib.Bytes.new(bytes.fromhex(h)), False)


def op_hello(req):
    return {
        "glib": f"{GLib.MAJOR_VERSION}.{GLib.MINOR_VERSION}.{GLib.MICRO_VERSION}",
        "python": sys.version.split()[0],
    }


def op_encode(req):
    t = req["type"]
    if not VT.string_is_valid(t):
        raise ValueError(f"invalid type string {t!r}")
    v = builder(t)(req["value"])
    if v.get_type_string() != t:
        raise ValueError(f"built {v.get_type_string()!r}, wanted {t!r}")
    out = {"hex": _bytes_of(v).hex()}
    if req.get("byteswap"):
        out["swapped"] = _bytes_of(v.byteswap()).hex()
    return out


def _depth_of(t, i):
    """(depth, end) of the complete type at t[i], as g_variant_type_info_query_depth() counts."""
    c = t[i]
    if c in "am":
        d, end = _depth_of(t, i + 1)
        return d + 1, end
    if c == "{":
        d, end = _depth_of(t, i + 2)  # GLib counts the value only, not the (basic) key
        return d + 1, end + 1
    if c == "(":
        i += 1
        best = 0  # so "()" has depth 0, as in GLib
        while t[i] != ")":
            d, i = _depth_of(t, i)
            best = max(best, d + 1)
        return best, i + 1
    return 1, i + 1


def op_decode(req):
    t = req["type"]
    v = _from_hex(t, req["hex"])
    normal = v.is_normal_form()
    try:
        value = reader(t)(v, 0)
    except Unreadable:
        # GLib would abort reading this (and g_variant_get_normal_form() would too: it reads
        # through g_variant_get_child_value()). Only is_normal_form() is safe.
        return {"normal": normal, "value": None, "normalHex": req["hex"] if normal else None, "readable": False}
    if normal:
        # g_variant_get_normal_form() returns the value itself when is_normal_form() says so,
        # which is not always what the serialiser writes (0 bytes pass as "(asas)", whose
        # serialisation is "00"). Rebuild the value from its parts to get the real one.
        normal_hex = _bytes_of(builder(t)(value)).hex()
    else:
        normal_hex = _bytes_of(v.get_normal_form()).hex()
    return {"normal": normal, "value": value, "normalHex": normal_hex, "readable": True}


def op_byteswap(req):
    return {"hex": _bytes_of(_from_hex(req["type"], req["hex"]).byteswap()).hex()}


def op_type(req):
    t = req["type"]
    valid = VT.string_is_valid(t)
    return {"valid": valid, "definite": valid and VT.new(t).is_definite()}


OPS = {"hello": op_hello, "encode": op_encode, "decode": op_decode, "byteswap": op_byteswap, "type": op_type}


def main():
    # GLib reports some misuse as g_critical on stderr; the caller drains stderr.
    stdin = sys.stdin.buffer
    stdout = sys.stdout
    while True:
        line = stdin.readline()
        if not line:
            return
        if not line.strip():
            continue
        rid = None
        try:
            req = json.loads(line)
            rid = req.get("id")
            res = OPS[req["op"]](req)
        except Exception as e:  # noqa: BLE001 - every failure is reported to the caller
            res = {"error": f"{type(e).__name__}: {e}"}
        res["id"] = rid
        stdout.write(json.dumps(res, ensure_ascii=True) + "\n")
        stdout.flush()


if __name__ == "__main__":
    main()
