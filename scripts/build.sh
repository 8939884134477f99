#!/bin/bash
# build.sh [--sanitizers]: installs dependencies, configures and builds rill in
# _build/ (or _build-san/ with sanitizers). Prints the build dir on stdout.
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
san=no
for arg in "$@"; do
    case "$arg" in
    --sanitizers) san=yes ;;
    *) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
    esac
done
"$top/scripts/install-deps.sh"
cd "$top"
[ -x configure ] || ./autogen.sh >&2
build="$top/_build"
flags=()
if [ "$san" = yes ]; then
    build="$top/_build-san"
    flags+=(--enable-sanitizers)
fi
mkdir -p "$build"
cd "$build"
[ -f Makefile ] || "$top/configure" -q "${flags[@]}" CFLAGS="${CFLAGS:--O2 -g}" >&2
make -s -j"$(nproc)" >&2
echo "$build"
