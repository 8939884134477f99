#!/bin/bash
# check-config-docs.sh: fails when a generated configuration reference differs
# from what the code prints now (a config table changed and `make update-docs`
# was not run):
#   docs/app-config.md     gen-config-docs app    (runtime/config.c)
#   docs/topic-config.md   gen-config-docs topic  (broker/server/topic-config.c)
#   docs/broker-config.md  rill-broker --help=markdown (broker/server/config.c)
set -u
build=${RILL_BUILDDIR:?}
src=${RILL_SRCDIR:?}
gen=$build/docs/gen-config-docs
broker=${RILL_BROKER:-$build/rill-broker}
for prog in "$gen" "$broker"; do
    [ -x "$prog" ] || { echo "check-config-docs: $prog is not built" >&2; exit 1; }
done
status=0
check() { # check DOC COMMAND...
    local doc=$src/docs/$1
    shift
    local out
    out=$(mktemp)
    if ! "$@" >"$out"; then
        echo "check-config-docs: '$*' failed" >&2
        status=1
    elif ! grep -q '^| `' "$out"; then
        echo "check-config-docs: '$*' printed no table rows" >&2
        status=1
    elif ! diff -u "$doc" "$out"; then
        echo "check-config-docs: docs/${doc##*/} is out of date with the config table in the" \
             "code: run make update-docs (and commit the result)" >&2
        status=1
    else
        echo "check-config-docs: docs/${doc##*/} matches the code"
    fi
    rm -f "$out"
}
check app-config.md "$gen" app
check topic-config.md "$gen" topic
check broker-config.md "$broker" --help=markdown
exit $status
