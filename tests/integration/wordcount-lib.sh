# wordcount-lib.sh: what the wordcount tests (0301-0303) share (source after runtime-lib.sh).
#
#   gen_lines FILE N SEED        N text lines (random words, mixed case, some UTF-8)
#   reference FILE... > OUT      "word<TAB>count" sorted, computed here in Python
#   final_counts OUT             the last count per word of the output topic, sorted
#   counts_reached REF           whether the output's final counts reach REF exactly
WORDCOUNT=$RILL_BUILDDIR/examples/wordcount

gen_lines() {
    /usr/bin/python3 - "$1" "$2" "$3" <<'PY'
import random, sys
path, n, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rng = random.Random(seed)
words = ["the", "quick", "Brown", "FOX", "jumps", "over", "lazy", "dog", "Été", "ÇA",
         "naïve", "kafka", "stream", "rill", "table", "Count"] + ["w%d" % i for i in range(300)]
with open(path, "w", encoding="utf-8") as f:
    for i in range(n):
        k = rng.randint(0, 12)
        sep = lambda: rng.choice([" ", "  ", "\t", " "])
        f.write("line%d\t%s\n" % (i, "".join(rng.choice(words) + sep() for _ in range(k)).strip()))
PY
}

reference() {
    /usr/bin/python3 - "$@" <<'PY'
import collections, sys
c = collections.Counter()
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, _, text = line.rstrip("\n").partition("\t")
            c.update(w.lower() for w in text.split())
for w in sorted(c):
    print("%s\t%d" % (w, c[w]))
PY
}

final_counts() {
    consume_lines "$OUTPUT_TOPIC" "$TEST_TMP/output.txt"
    /usr/bin/python3 - "$TEST_TMP/output.txt" >"$1" <<'PY'
import sys
last = {}
with open(sys.argv[1], encoding="utf-8") as f:
    for line in f:
        k, _, v = line.rstrip("\n").partition("\t")
        last[k] = v
for k in sorted(last):
    print("%s\t%s" % (k, last[k]))
PY
}

counts_reached() {
    final_counts "$TEST_TMP/final.txt"
    cmp -s "$1" "$TEST_TMP/final.txt"
}

# at_least REF GOT: every word of REF is in GOT with a count >= REF's, and GOT has no other word
at_least() {
    /usr/bin/python3 - "$1" "$2" <<'PY'
import sys
def load(p):
    with open(p, encoding="utf-8") as f:
        return dict(l.rstrip("\n").split("\t") for l in f if l.strip())
ref, got = load(sys.argv[1]), load(sys.argv[2])
missing = [w for w in ref if w not in got or int(got[w]) < int(ref[w])]
extra = [w for w in got if w not in ref]
more = sum(int(got[w]) - int(ref[w]) for w in ref if w in got)
print("words %d, short %d, extra %d, counted above the reference (duplicates): %d"
      % (len(ref), len(missing), len(extra), more))
sys.exit(1 if missing or extra else 0)
PY
}
