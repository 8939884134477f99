#!/bin/bash
# check-dsl.sh: the complete program at the end of docs/dsl.md compiles
# against the public headers, links with librill alone, and prints exactly
# the output the page shows after it (so the reference's claims about each
# operator's behaviour are checked).
set -u
src=${RILL_SRCDIR:?} build=${RILL_BUILDDIR:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail() { echo "FAIL: $*" >&2; exit 1; }

doc="$src/docs/dsl.md"
awk '/^## A complete program/ {in_section = 1}
     in_section && /^```c$/ {in_code = 1; next}
     in_code && /^```$/ {exit}
     in_code {print}' "$doc" >"$work/tour.c"
grep -q 'int main' "$work/tour.c" || fail "no complete program found in docs/dsl.md"
# the expected output: the indented block after "and then"
awk '/^## A complete program/ {in_section = 1}
     in_section && /and then/ {in_out = 1; next}
     in_out && /^    / {sub(/^    /, ""); print; started = 1; next}
     in_out && started {exit}' "$doc" >"$work/expected"
[ -s "$work/expected" ] || fail "no expected output found in docs/dsl.md"

lib="$build/.libs/librill.so"
[ -e "$lib" ] || fail "librill.so not built at $lib"
flags=()
if nm -D "$lib" | grep -q __asan_init; then # a sanitizer build: the program must match
    flags+=(-fsanitize=address,undefined)
fi
cc -std=c11 -D_POSIX_C_SOURCE=200809L -Wall -Wextra -Werror "${flags[@]}" -I"$src/include" \
    "$work/tour.c" -o "$work/tour" -L"$build/.libs" -lrill -Wl,-rpath,"$build/.libs" ||
    fail "the program of docs/dsl.md does not compile"
"$work/tour" >"$work/out" 2>"$work/err" || { cat "$work/err" >&2; fail "the program failed"; }
grep -q 'Sub-topology: 1' "$work/out" || fail "describe does not show two sub-topologies"
sed -n '/^admin-clicks/,$p' "$work/out" >"$work/actual"
diff -u "$work/expected" "$work/actual" || fail "docs/dsl.md shows an output the program does not print"
echo "dsl: the complete program of docs/dsl.md printed the documented output"
