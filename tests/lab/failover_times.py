#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Failover times of one trial, from what site A saw after a failure of the
pair A-B began at T0 (used by tests/netns/meshctl.sh and
bench/meshctl-failover.sh):

    failover_times.py T0 MONITOR_LOG PING_LOG A B CUTOFF_S

MONITOR_LOG is `ip -ts monitor route` on A, PING_LOG `ping -D` from A to
B's address. Prints "route_s answer_s lost": the time to the first route
of 10.201.B.0/24 that leaves A's direct tunnels to B (any protocol; via a
gateway or not), the time to the first ping answered later than
T0 + CUTOFF_S (replies in flight when the failure began come before), and
the pings lost after that first answer; 99 (-1 for lost) when it did not
happen.
"""
import datetime
import re
import sys

t0, mon, pings, a, b = float(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
cutoff = float(sys.argv[6])
route = None
for line in open(mon):
    m = re.match(r'\[([0-9T:.-]+)\] (?!Deleted)10\.201\.%s\.0/24 (?:via \S+ )?dev (\S+)' % b,
                 line)
    if m and not m.group(2).startswith('wg%s.%s_' % (a, b)):
        t = datetime.datetime.fromisoformat(m.group(1)).timestamp()
        if t > t0:
            route = t - t0
            break
answers = []
for line in open(pings):
    m = re.match(r'\[([0-9.]+)\] \d+ bytes from .* icmp_seq=(\d+)', line)
    if m:
        answers.append((float(m.group(1)), int(m.group(2))))
after = [(t, s) for t, s in answers if t > t0 + cutoff]
seqs = sorted(s for t, s in after)
lost = (seqs[-1] - seqs[0] + 1) - len(seqs) if seqs else -1
print('%.3f %.3f %d' % (route if route is not None else 99,
                        after[0][0] - t0 if after else 99, lost))
