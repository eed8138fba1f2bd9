#!/usr/bin/env python3
"""Picks the K inputs of a fuzz run that keep the most coverage features,
for the checked-in corpus (greedy set cover over a libFuzzer merge control
file, whose FT lines -set_cover_merge writes in full). Usage:

    RUSTC_BOOTSTRAP=1 cargo fuzz run <target> /tmp/out <run-corpus> -- \
        -set_cover_merge=1 -use_counters=0 -merge_control_file=/tmp/ctl
    python3 fuzz/pick_corpus.py /tmp/ctl fuzz/corpus/<target> 30

Files are copied as min-<first 16 hex of their name>.
"""
import sys, shutil, os
ctl, out, k = sys.argv[1], sys.argv[2], int(sys.argv[3])
lines = open(ctl).read().split("\n")
n = int(lines[0]); files = lines[2:2 + n]
ft = {}
for l in lines[2 + n:]:
    p = l.split()
    if p and p[0] == "FT": ft[int(p[1])] = set(p[2:])
tot = set().union(*ft.values())
chosen, covered = [], set()
while len(chosen) < k and covered != tot:
    i = max(ft, key=lambda j: (len(ft[j] - covered), -os.path.getsize(files[j])))
    chosen.append(i); covered |= ft[i]
os.makedirs(out, exist_ok=True)
for i in chosen:
    shutil.copy(files[i], os.path.join(out, "min-" + os.path.basename(files[i])[:16]))
print(f"{len(chosen)} of {n} files keep {len(covered)} of {len(tot)} features")
