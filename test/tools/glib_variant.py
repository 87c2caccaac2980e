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
    -> ``{"normal": g_variant_is_normal_form(), "value": J, "normalHex": <g_variant_get_normal_form() bytes>}``
    ``value`` is what GLib's getters return, defaults included for non-normal data.
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


def _members(vt):
    out = []
    m = vt.first()
    while m is not None:
        out.append(m.dup_string())
        m = m.next()
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
        bk, bv = (builder(m) for m in _members(vt))
        return lambda j: V.new_dict_entry(bk(j[0]), bv(j[1]))
    if vt.is_tuple():
        builds = [builder(m) for m in _members(vt)]
        n = len(builds)

        def build_tuple(j):
            if len(j) != n:
                raise ValueError(f"tuple {t} needs {n} members, got {len(j)}")
            return V.new_tuple([b(x) for b, x in zip(builds, j)])

        return build_tuple
    raise ValueError(f"cannot build type {t!r}")


# -- reading (GLib -> JSON) --------------------------------------------------

def _hex_double(v):
    return struct.pack(">d", v.get_double()).hex()


_BASIC_READ = {
    "b": lambda v: v.get_boolean(),
    "y": lambda v: v.get_byte(),
    "n": lambda v: v.get_int16(),
    "q": lambda v: v.get_uint16(),
    "i": lambda v: v.get_int32(),
    "u": lambda v: v.get_uint32(),
    "h": lambda v: v.get_handle(),
    "x": lambda v: str(v.get_int64()),
    "t": lambda v: str(v.get_uint64()),
    "d": _hex_double,
    "s": lambda v: v.get_string(),
    "o": lambda v: v.get_string(),
    "g": lambda v: v.get_string(),
}


def reader(t):
    f = _readers.get(t)
    if f is None:
        f = _compile_reader(t)
        _readers[t] = f
    return f


def _read_variant(v):
    c = v.get_variant()
    ct = c.get_type_string()
    return {"type": ct, "value": reader(ct)(c)}


def _compile_reader(t):
    if t in _BASIC_READ:
        return _BASIC_READ[t]
    if t == "v":
        return _read_variant
    if t == "ay":
        return lambda v: _bytes_of(v).hex()
    vt = VT.new(t)
    if vt.is_array():
        read = reader(vt.element().dup_string())
        return lambda v: [read(v.get_child_value(i)) for i in range(v.n_children())]
    if vt.is_maybe():
        read = reader(vt.element().dup_string())
        return lambda v: None if v.n_children() == 0 else [read(v.get_child_value(0))]
    if vt.is_tuple() or vt.is_dict_entry():
        reads = [reader(m) for m in _members(vt)]
        return lambda v: [r(v.get_child_value(i)) for i, r in enumerate(reads)]
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


def op_decode(req):
    t = req["type"]
    v = _from_hex(t, req["hex"])
    return {
        "normal": v.is_normal_form(),
        "value": reader(t)(v),
        "normalHex": _bytes_of(v.get_normal_form()).hex(),
    }


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
