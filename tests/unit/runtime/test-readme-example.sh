#!/bin/bash
# test-readme-example.sh: the C program of README.md's "Writing a topology"
# compiles against the public headers, links with librill alone (so it uses
# exported symbols only), and prints what the README says it prints.
set -eu
src=${RILL_SRCDIR:?} build=${RILL_BUILDDIR:?}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# the first ```c block after the section heading
awk '/^## Writing a topology/ {in_section = 1}
     in_section && /^```c$/ {in_code = 1; next}
     in_code && /^```$/ {exit}
     in_code {print}' "$src/README.md" >"$work/orders.c"
if [ ! -s "$work/orders.c" ]; then
    echo "no C example found in README.md's 'Writing a topology'" >&2
    exit 1
fi
lib="$build/.libs/librill.so"
if [ ! -e "$lib" ]; then
    echo "librill.so not built at $lib" >&2
    exit 1
fi
flags=()
if nm -D "$lib" | grep -q __asan_init; then # a sanitizer build: the program must match
    flags+=(-fsanitize=address,undefined)
fi
cc -std=c11 -Wall -Werror "${flags[@]}" -I"$src/include" "$work/orders.c" -o "$work/orders" \
    -L"$build/.libs" -lrill -Wl,-rpath,"$build/.libs"
"$work/orders" >"$work/out.txt"
grep -qx 'ann spent 250 at 1000' "$work/out.txt"
grep -qx 'cy spent 100 at 1002' "$work/out.txt"
grep -q 'Source: KSTREAM-SOURCE-0000000000 (topics: \[orders\])' "$work/out.txt"
if grep -q 'bob' "$work/out.txt"; then
    echo "the filter let bob's small order through" >&2
    exit 1
fi
echo "README example: compiled, linked with librill only, printed the documented output"
