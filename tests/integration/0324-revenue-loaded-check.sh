#!/bin/bash
# 0324: the revenue tests' "customers loaded" check (revenue-lib.sh loaded_in)
# on saved `rill groups describe` outputs, no broker. Regression: the check
# used to accept "Total lag: 0" with the N partitions listed, which is also
# what a group shows right after the assignment, before anything is consumed
# (offsets "-" count for no lag). 0320/0321 then produced the orders while
# the customers were still unread, the joins found no customer rows and
# dropped the orders of a whole partition (the first fixture is the describe
# output of such a run).
. "$RILL_SRCDIR/tests/integration/lib.sh"
. "$RILL_SRCDIR/tests/integration/revenue-lib.sh"

member=rev-0320-StreamThread-1-consumer-0f67b821
cat >"$TEST_TMP/assigned.txt" <<TXT
Group: rev-0320	State: Stable	Members: 2	Assignor: range
TOPIC                    PARTITION CURRENT-OFFSET LOG-END-OFFSET LAG      CONSUMER-ID HOST CLIENT-ID
customers                0         -              5245           -        $member /127.0.0.1 c1
customers                1         -              5245           -        $member /127.0.0.1 c1
customers                2         -              5270           -        $member /127.0.0.1 c2
customers                3         -              5240           -        $member /127.0.0.1 c2
orders                   0         -              0              -        $member /127.0.0.1 c1
Total lag: 0
TXT
# the old check passed on it: that is the bug
[ "$(sed -n 's/^Total lag: //p' "$TEST_TMP/assigned.txt")" = 0 ] &&
    [ "$(grep -c "^customers " "$TEST_TMP/assigned.txt")" -eq 4 ] ||
    fail "fixture: not what the old check accepted"
loaded_in "$TEST_TMP/assigned.txt" customers 4 &&
    fail "assigned but nothing committed was taken for loaded"

sed -e 's/^\(customers *[0-9] *\)-\( *\)\([0-9]*\)\( *\)-/\1\3\2\3\4 0/' \
    "$TEST_TMP/assigned.txt" >"$TEST_TMP/loaded.txt"
grep -q "^customers *3 *5240 *5240 " "$TEST_TMP/loaded.txt" || fail "fixture: $(cat "$TEST_TMP/loaded.txt")"
loaded_in "$TEST_TMP/loaded.txt" customers 4 || fail "all 4 committed at the log end: not loaded?"
loaded_in "$TEST_TMP/loaded.txt" customers 5 && fail "5 partitions wanted, 4 there: loaded?"
loaded_in "$TEST_TMP/loaded.txt" orders 1 && fail "orders: nothing committed, yet loaded?"

sed -e 's/^\(customers *2 *\)5270/\1-   /' "$TEST_TMP/loaded.txt" >"$TEST_TMP/three.txt"
loaded_in "$TEST_TMP/three.txt" customers 4 && fail "3 of 4 partitions committed: loaded?"

sed -e 's/^\(customers *1 *\)5245/\15000/' "$TEST_TMP/loaded.txt" >"$TEST_TMP/behind.txt"
grep -q "^customers *1 *5000 *5245 " "$TEST_TMP/behind.txt" || fail "fixture: $(cat "$TEST_TMP/behind.txt")"
loaded_in "$TEST_TMP/behind.txt" customers 4 && fail "committed behind the log end: loaded?"
echo "PASS: loaded only when every partition is committed at its log end"
