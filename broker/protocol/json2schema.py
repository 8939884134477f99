#!/usr/bin/env python3
"""json2schema.py: drafts messages.schema entries from Apache Kafka's message JSON specs.

Not run by the build: a helper for adding an API to broker/protocol/messages.schema
(the schema is ours and is what gen-protocol.py reads). It prints, for each JSON file
given, the request or response section in the compact format described at the top of
messages.schema; review the output before pasting it in.

    python3 broker/protocol/json2schema.py ApiVersionsRequest.json ApiVersionsResponse.json
"""
import json
import re
import sys


def load(path):
    text = open(path, encoding="utf-8").read()
    text = "\n".join(l for l in text.splitlines() if not l.strip().startswith("//"))
    return json.loads(text)


def snake(name):
    s = re.sub(r"([a-z0-9])([A-Z])", r"\1_\2", name)
    s = re.sub(r"([A-Z]+)([A-Z][a-z])", r"\1_\2", s)
    return s.lower()


def vers(v):
    return v if v else "0+"


def emit_fields(fields, common, depth, out):
    for f in fields:
        typ = f["type"]
        words = [snake(f["name"]), typ, vers(f.get("versions"))]
        if "nullableVersions" in f:
            words.append("null=" + f["nullableVersions"])
        if "tag" in f:
            words.append("tag=%d@%s" % (f["tag"], f["taggedVersions"]))
        if "default" in f:
            d = f["default"]
            d = ("true" if d else "false") if isinstance(d, bool) else str(d).replace(" ", "")
            words.append("default=" + d)
        if f.get("flexibleVersions") == "none":
            words.append("noflex")
        out.append("  " * depth + " ".join(words))
        sub = f.get("fields")
        base = typ[2:] if typ.startswith("[]") else typ
        if sub is None and base in common:
            sub = common.pop(base)
        if sub:
            emit_fields(sub, common, depth + 1, out)


def main():
    for path in sys.argv[1:]:
        spec = load(path)
        common = {c["name"]: c["fields"] for c in spec.get("commonStructs", [])}
        kind = spec["type"]
        out = []
        if kind == "request":
            out.append("api %s key=%d valid=%s flexible=%s" % (
                spec["name"][:-len("Request")], spec["apiKey"], spec["validVersions"],
                spec["flexibleVersions"]))
        out.append(kind)
        emit_fields(spec["fields"], common, 1, out)
        print("\n".join(out))


if __name__ == "__main__":
    main()
