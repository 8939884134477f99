#!/bin/bash
# 0503: the installed library works for a program outside the tree: `make
# install` into a staging DESTDIR gives librill, the headers, rill.pc and the
# programs; examples/wordcount.c, copied out of the tree, builds with nothing
# but `pkg-config --cflags --libs rill`, and runs against rill-broker.
source "$RILL_SRCDIR/tests/integration/lib.sh"
stage="$TEST_TMP/stage"
make -s -C "$RILL_BUILDDIR" install DESTDIR="$stage" >"$TEST_TMP/install.log" 2>&1 ||
    fail "make install: $(tail -20 "$TEST_TMP/install.log")"
prefix=$(sed -n 's/^prefix=//p' "$RILL_BUILDDIR/rill.pc")
root="$stage$prefix"
for f in include/rill/rill.h include/rill/topology.h lib/pkgconfig/rill.pc bin/rill bin/rill-broker; do
    [ -e "$root/$f" ] || fail "make install did not install $f"
done
ls "$root"/lib/librill.so* >/dev/null 2>&1 || fail "make install did not install librill.so"

export PKG_CONFIG_PATH="$root/lib/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$stage"
cflags=$(pkg-config --cflags rill) || fail "pkg-config --cflags rill"
libs=$(pkg-config --libs rill) || fail "pkg-config --libs rill"
case "$cflags $libs" in *"$RILL_SRCDIR"* | *"$RILL_BUILDDIR"*) fail "pkg-config points into the tree: $cflags $libs" ;; esac
mkdir "$TEST_TMP/app"
cp "$RILL_SRCDIR/examples/wordcount.c" "$TEST_TMP/app/"
san=
grep -q -- '-fsanitize' "$RILL_BUILDDIR/Makefile" && san="-fsanitize=address,undefined"
(cd "$TEST_TMP/app" && cc $san -Wall -Wextra -Werror -o wordcount wordcount.c $cflags $libs) ||
    fail "the example does not build against the installed library"
export LD_LIBRARY_PATH="$root/lib"
ldd "$TEST_TMP/app/wordcount" | grep -q "$root/lib/librill.so" || fail "not linked to the installed librill"
"$TEST_TMP/app/wordcount" --help >/dev/null || fail "wordcount --help"

start_broker
RILL="$root/bin/rill"
"$RILL" topics create lines -p 2 -b "$BOOTSTRAP" >/dev/null || fail "create lines"
printf 'the cat\nThe dog\nthe END\n' | "$RILL" produce lines -q -b "$BOOTSTRAP" || fail "produce"
"$TEST_TMP/app/wordcount" -b "$BOOTSTRAP" --application-id wc-installed --input lines --output counts \
    --state-dir "$TEST_TMP/state" >"$TEST_TMP/wc.log" 2>&1 &
app=$!
# the last count of "the" must reach 3
wait_for 90 bash -c "timeout 20 '$RILL' consume counts --from-beginning --print-key -b '$BOOTSTRAP' 2>/dev/null | grep -qP '^the\t3$'" ||
    { kill "$app"; fail "no count 'the 3' from the installed build: $(tail -5 "$TEST_TMP/wc.log")"; }
kill -TERM "$app"
wait "$app" || fail "wordcount exited $? on SIGTERM"
echo "0503: installed librill builds and runs an app out of tree"
