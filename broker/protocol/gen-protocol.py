#!/usr/bin/env python3
"""gen-protocol.py: generates rill-broker's Kafka message code from messages.schema.

    gen-protocol.py messages.schema OUT.h OUT.c

For every API in the schema it emits, in OUT.h, one C struct per message body
and per nested struct (named rb_<api>_req_t / rb_<api>_resp_t and
rb_<api>_{req,resp}_<struct>_t, fields in snake_case as in Kafka), typed
decode/encode/init wrappers, and the RB_API_* keys; in OUT.c the descriptor
tables proto.c interprets and rb_proto_apis[], the served-version table.

Arrays become two members: `T *name` and `int32_t name_count` (-1 = null).
The schema format is described at the top of messages.schema. Errors in the
schema stop the build with the line number.
"""
import re
import sys

SCALARS = {
    "bool": ("bool", "RB_FT_BOOL"),
    "int8": ("int8_t", "RB_FT_INT8"),
    "int16": ("int16_t", "RB_FT_INT16"),
    "uint16": ("uint16_t", "RB_FT_UINT16"),
    "int32": ("int32_t", "RB_FT_INT32"),
    "uint32": ("uint32_t", "RB_FT_UINT32"),
    "int64": ("int64_t", "RB_FT_INT64"),
    "float64": ("double", "RB_FT_FLOAT64"),
    "uuid": ("rb_uuid_t", "RB_FT_UUID"),
    "string": ("rb_str_t", "RB_FT_STRING"),
    "bytes": ("rb_bytes_t", "RB_FT_BYTES"),
    "records": ("rb_records_t", "RB_FT_RECORDS"),
}
VMAX = 32767


class SchemaError(Exception):
    pass


def snake(name):
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return s.lower()


def parse_versions(text, lineno):
    if text == "none":
        return (VMAX, -1)
    m = re.fullmatch(r"(\d+)(\+|-(\d+))?", text)
    if not m:
        raise SchemaError("line %d: bad versions '%s'" % (lineno, text))
    lo = int(m.group(1))
    if m.group(2) == "+":
        return (lo, VMAX)
    if m.group(3) is not None:
        return (lo, int(m.group(3)))
    return (lo, lo)


class Field:
    def __init__(self, name, typ, versions, lineno):
        self.name = name
        self.array = typ.startswith("[]")
        self.base = typ[2:] if self.array else typ
        self.versions = versions
        self.nullable = (VMAX, -1)
        self.tag = -1
        self.default = None
        self.noflex = False
        self.struct = None  # Struct for struct types
        self.lineno = lineno


class Struct:
    def __init__(self, cname, kname):
        self.cname = cname  # C type name without _t
        self.kname = kname  # Kafka name
        self.fields = []


class Api:
    def __init__(self, name, key, versions, flexible):
        self.name = name
        self.key = key
        self.versions = versions
        self.flexible = flexible
        self.request = None
        self.response = None


def parse(path):
    apis = []
    api = None
    stack = []  # (indent, Struct)
    structs = {}  # per message: Kafka struct name -> Struct
    prefix = None
    last_field = None
    for lineno, raw in enumerate(open(path, encoding="utf-8"), 1):
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        words = line.split()
        if words[0] == "api" and indent == 0:
            kv = dict(w.split("=", 1) for w in words[2:])
            flex = kv.get("flexible", "none")
            api = Api(words[1], int(kv["key"]), parse_versions(kv["versions"], lineno),
                      VMAX if flex == "none" else parse_versions(flex, lineno)[0])
            apis.append(api)
            continue
        if words[0] in ("request", "response") and indent == 0:
            if api is None:
                raise SchemaError("line %d: %s outside an api" % (lineno, words[0]))
            kind = "req" if words[0] == "request" else "resp"
            prefix = "rb_%s_%s" % (snake(api.name), kind)
            body = Struct(prefix, api.name + ("Request" if kind == "req" else "Response"))
            setattr(api, words[0], body)
            stack = [(-1, body)]
            structs = {}
            last_field = None
            continue
        if not stack:
            raise SchemaError("line %d: field outside a message" % lineno)
        if len(words) < 3:
            raise SchemaError("line %d: a field needs NAME TYPE VERSIONS" % lineno)
        # nesting: a deeper indent opens the struct of the previous field
        if stack[-1][0] == -1:
            stack[-1] = (indent, stack[-1][1])
        elif indent > stack[-1][0]:
            if last_field is None or last_field.base in SCALARS or last_field.struct is not None:
                raise SchemaError("line %d: unexpected indent" % lineno)
            st = Struct("%s_%s" % (prefix, snake(last_field.base)), last_field.base)
            if last_field.base in structs:
                raise SchemaError("line %d: struct %s defined twice" % (lineno, last_field.base))
            structs[last_field.base] = st
            last_field.struct = st
            stack.append((indent, st))
        else:
            while stack and indent < stack[-1][0]:
                stack.pop()
            if not stack or indent != stack[-1][0]:
                raise SchemaError("line %d: indentation does not match" % lineno)
        f = Field(words[0], words[1], parse_versions(words[2], lineno), lineno)
        for w in words[3:]:
            if w.startswith("null="):
                f.nullable = parse_versions(w[5:], lineno)
            elif w.startswith("tag="):
                tag, tv = w[4:].split("@")
                f.tag = int(tag)
                f.versions = parse_versions(tv, lineno)
            elif w.startswith("default="):
                f.default = w[8:]
            elif w == "noflex":
                f.noflex = True
            else:
                raise SchemaError("line %d: unknown attribute '%s'" % (lineno, w))
        if f.base not in SCALARS and f.base in structs:
            f.struct = structs[f.base]
        stack[-1][1].fields.append(f)
        last_field = f
    for a in apis:
        if a.request is None or a.response is None:
            raise SchemaError("api %s lacks a request or a response" % a.name)
        for st in (a.request, a.response):
            check_structs(st)
    return apis


def check_structs(st):
    for f in st.fields:
        if f.base not in SCALARS:
            if f.struct is None:
                raise SchemaError("line %d: struct %s has no fields" % (f.lineno, f.base))
            check_structs(f.struct)


def all_structs(st, out):
    """Post-order: nested structs before the structs that hold them."""
    for f in st.fields:
        if f.struct is not None and f.struct not in out:
            all_structs(f.struct, out)
    if st not in out:
        out.append(st)
    return out


def ctype(f):
    if f.base in SCALARS:
        return SCALARS[f.base][0]
    return f.struct.cname + "_t"


def vstr(v):
    lo, hi = v
    if lo > hi:
        return "none"
    return "%d+" % lo if hi == VMAX else ("%d" % lo if lo == hi else "%d-%d" % (lo, hi))


def default_int(f):
    d = f.default
    if d is None or f.base in ("string", "bytes", "records", "uuid") or f.struct:
        return "0"
    if d in ("true", "false"):
        return "1" if d == "true" else "0"
    try:
        return "INT64_C(%d)" % int(d, 0)
    except ValueError:
        raise SchemaError("line %d: bad default '%s'" % (f.lineno, d))


def default_str(f):
    if f.base != "string" or f.default is None or f.default == "null":
        return "NULL"
    return '"%s"' % f.default


def gen_header(apis, out):
    w = out.append
    w("/* messages-gen.h: generated by gen-protocol.py from messages.schema. Do not edit. */")
    w("#ifndef RB_MESSAGES_GEN_H")
    w("#define RB_MESSAGES_GEN_H")
    w("")
    w('#include "broker/protocol/proto.h"')
    w("")
    for a in apis:
        w("#define RB_API_KEY_%s %d" % (snake(a.name).upper(), a.key))
    w("")
    for a in apis:
        for kind, st in (("req", a.request), ("resp", a.response)):
            w("/* ---- %s (api key %d, versions %s) ---- */" % (st.kname, a.key, vstr(a.versions)))
            for s in all_structs(st, []):
                w("typedef struct %s {" % s.cname)
                for f in s.fields:
                    note = "v%s" % vstr(f.versions)
                    if f.nullable[0] <= f.nullable[1]:
                        note += ", null v%s" % vstr(f.nullable)
                    if f.tag >= 0:
                        note += ", tag %d" % f.tag
                    if f.array:
                        w("    %s *%s; /* %s */" % (ctype(f), f.name, note))
                        w("    int32_t %s_count;" % f.name)
                    else:
                        w("    %s %s; /* %s */" % (ctype(f), f.name, note))
                if not s.fields:
                    w("    char unused_;")
                w("} %s_t;" % s.cname)
                w("extern const rb_struct_desc_t %s_desc;" % s.cname)
                w("")
            name = "rb_%s_%s" % (snake(a.name), kind)
            w("extern const rb_msg_desc_t %s_msg;" % name)
            w("static inline int %s_decode(rill_rbuf_t *r, int16_t version, rb_arena_t *arena, %s_t *out)"
              % (name, name))
            w("{")
            w("    return rb_proto_decode(&%s_msg, version, version >= %d, r, arena, out);"
              % (name, a.flexible))
            w("}")
            w("static inline void %s_encode(rb_enc_t *enc, int16_t version, const %s_t *in)"
              % (name, name))
            w("{")
            w("    rb_proto_encode(&%s_msg, version, version >= %d, enc, in);" % (name, a.flexible))
            w("}")
            w("static inline void %s_init(%s_t *out)" % (name, name))
            w("{")
            w("    rb_proto_init(&%s_desc, out);" % name)
            w("}")
            w("")
    w("#endif /* RB_MESSAGES_GEN_H */")


def gen_source(apis, out):
    w = out.append
    w("/* messages-gen.c: generated by gen-protocol.py from messages.schema. Do not edit. */")
    w('#include "config.h"')
    w("")
    w("#include <stddef.h>")
    w("")
    w('#include "broker/protocol/messages-gen.h"')
    w("")
    for a in apis:
        for kind, st in (("req", a.request), ("resp", a.response)):
            for s in all_structs(st, []):
                w("static const rb_field_desc_t %s_fields[] = {" % s.cname)
                for f in s.fields:
                    typ = SCALARS[f.base][1] if f.base in SCALARS else "RB_FT_STRUCT"
                    vlo, vhi = f.versions
                    nlo, nhi = f.nullable
                    count_off = "offsetof(%s_t, %s_count)" % (s.cname, f.name) if f.array else "0"
                    elem = "sizeof(%s)" % ctype(f) if f.array else "0"
                    sub = "&%s_desc" % f.struct.cname if f.struct else "NULL"
                    w("    {\"%s\", %s, %s, %s, %d, %d, %d, %d, %d, offsetof(%s_t, %s), %s, %s, %s, %s, %s},"
                      % (f.name, typ, "true" if f.array else "false",
                         "true" if f.noflex else "false", vlo, vhi, nlo, nhi, f.tag,
                         s.cname, f.name, count_off, elem, sub, default_int(f), default_str(f)))
                if not s.fields:
                    w("    {0},")
                w("};")
                w("const rb_struct_desc_t %s_desc = {\"%s\", sizeof(%s_t), %d, %s_fields};"
                  % (s.cname, s.kname, s.cname, len(s.fields), s.cname))
                w("")
            name = "rb_%s_%s" % (snake(a.name), kind)
            w("const rb_msg_desc_t %s_msg = {\"%s\", &%s_desc};" % (name, st.kname, name))
            w("")
    w("const rb_api_desc_t rb_proto_apis[] = {")
    for a in sorted(apis, key=lambda x: x.key):
        n = snake(a.name)
        w("    {%d, \"%s\", %d, %d, %d, &rb_%s_req_msg, &rb_%s_resp_msg},"
          % (a.key, a.name, a.versions[0], a.versions[1], a.flexible, n, n))
    w("};")
    w("const size_t rb_proto_n_apis = sizeof(rb_proto_apis) / sizeof(rb_proto_apis[0]);")


def main():
    if len(sys.argv) != 4:
        sys.stderr.write("usage: gen-protocol.py messages.schema OUT.h OUT.c\n")
        return 2
    try:
        apis = parse(sys.argv[1])
    except SchemaError as e:
        sys.stderr.write("%s: %s\n" % (sys.argv[1], e))
        return 1
    h, c = [], []
    try:
        gen_header(apis, h)
        gen_source(apis, c)
    except SchemaError as e:
        sys.stderr.write("%s: %s\n" % (sys.argv[1], e))
        return 1
    with open(sys.argv[2], "w", encoding="utf-8") as f:
        f.write("\n".join(h) + "\n")
    with open(sys.argv[3], "w", encoding="utf-8") as f:
        f.write("\n".join(c) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
