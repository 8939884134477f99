#!/bin/bash
# check-config-docs.sh: fails when docs/configuration-{broker,app}.md differ
# from what docs/gen-config-docs prints from the code's config tables now
# (i.e. a table changed and `make update-docs` was not run).
set -u
gen=${RILL_BUILDDIR:?}/docs/gen-config-docs
src=${RILL_SRCDIR:?}
[ -x "$gen" ] || { echo "check-config-docs: $gen is not built" >&2; exit 1; }
status=0
for which in broker app; do
    doc=$src/docs/configuration-$which.md
    out=$(mktemp)
    if ! "$gen" "$which" > "$out"; then
        echo "check-config-docs: gen-config-docs $which failed" >&2
        status=1
    elif ! diff -u "$doc" "$out"; then
        echo "check-config-docs: docs/configuration-$which.md is out of date with the config" \
             "table in the code: run make update-docs (and commit the result)" >&2
        status=1
    else
        echo "check-config-docs: docs/configuration-$which.md matches the code"
    fi
    rm -f "$out"
done
exit $status
