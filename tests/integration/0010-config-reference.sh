#!/bin/bash
# 0010-config-reference: docs/broker-config.md is what `rill-broker --help=markdown`
# prints from the configuration table, so the reference cannot drift from the code.
# After changing the table: rill-broker --help=markdown > docs/broker-config.md
. "${RILL_SRCDIR:-.}/tests/integration/lib.sh"

"$RILL_BROKER" --help=markdown >"$TEST_TMP/generated.md" || fail "--help=markdown exited $?"
grep -q '^| `listeners` |' "$TEST_TMP/generated.md" || fail "the generated reference has no listeners row"
diff -u "$RILL_SRCDIR/docs/broker-config.md" "$TEST_TMP/generated.md" >"$TEST_TMP/diff.txt" ||
    fail "docs/broker-config.md is out of date; regenerate it with: rill-broker --help=markdown > docs/broker-config.md
$(head -30 "$TEST_TMP/diff.txt")"
echo "ok - docs/broker-config.md matches the configuration table"
