#!/bin/bash
# demo.sh: the README's first command, the main job. Installs what rill needs,
# builds it, and runs it. (It grows into the analytics demo as the broker and
# the runtime land: broker in a temp dir, event stream, stateful topology.)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=$("$top/scripts/build.sh")
"$build/rill" --version
