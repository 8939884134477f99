#!/bin/bash
# Checks the dependency arrows of DESIGN.md by scanning #include lines:
#   common    -> libc, GLib
#   stores    -> common, RocksDB
#   runtime   -> stores, common, GLib; only runtime/kafka/ includes librdkafka
#   operators -> runtime, stores, common
#   broker    -> common only (never librdkafka, never the runtime)
#   examples  -> include/rill only
#   tools     -> include/rill, common, the broker's embedding API
# Exits non-zero and names each offending line.
set -u
top=${1:-${RILL_SRCDIR:-$(cd "$(dirname "$0")/.." && pwd)}}
cd "$top" || exit 2
bad=0

# check FOLDER ALLOWED-PROJECT-DIRS... : every #include "dir/..." in FOLDER must
# name an allowed dir; <librdkafka/...> and <rocksdb/...> are checked separately.
check() {
    local folder=$1
    shift
    local allowed=" $* "
    [ -d "$folder" ] || return 0
    while IFS= read -r hit; do
        local file=${hit%%:*}
        local rest=${hit#*:}
        local line=${rest%%:*}
        local inc
        inc=$(printf '%s' "$rest" | sed -n 's/.*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p')
        [ -n "$inc" ] || continue
        case "$inc" in
        */*) ;;
        *) continue ;; # same-folder include
        esac
        local dir=${inc%%/*}
        [ "$dir" = "config.h" ] && continue
        if [[ "$allowed" != *" $dir "* ]]; then
            echo "arrows: $file:$line includes \"$inc\": $folder may not depend on $dir/" >&2
            bad=1
        fi
    done < <(grep -rn --include='*.c' --include='*.h' '^[[:space:]]*#[[:space:]]*include[[:space:]]*"' "$folder" 2>/dev/null)
}

check common common
check stores stores common
check runtime runtime stores common
check operators operators runtime stores common
check broker broker common
check examples
check tools tools common broker

# third-party headers that only some folders may include
forbid() {
    local pattern=$1
    shift
    for folder in "$@"; do
        [ -d "$folder" ] || continue
        while IFS= read -r hit; do
            echo "arrows: $hit: $folder may not include $pattern" >&2
            bad=1
        done < <(grep -rn --include='*.c' --include='*.h' "#[[:space:]]*include[[:space:]]*<$pattern" "$folder" 2>/dev/null)
    done
}
forbid 'librdkafka/' common stores operators broker examples include
forbid 'rocksdb/' common runtime operators broker examples include tools
forbid 'glib' include examples
# within runtime, only runtime/kafka/ may include librdkafka
while IFS= read -r hit; do
    case "$hit" in runtime/kafka/*) ;; *)
        echo "arrows: $hit: only runtime/kafka/ may include librdkafka" >&2
        bad=1
        ;;
    esac
done < <(grep -rn --include='*.c' --include='*.h' '#[[:space:]]*include[[:space:]]*<librdkafka/' runtime 2>/dev/null)

if [ "$bad" -ne 0 ]; then
    echo "arrows: FAILED (see DESIGN.md, 'Layout and dependency direction')" >&2
    exit 1
fi
echo "arrows: every include follows DESIGN.md's dependency direction"
