#!/usr/bin/env python3
"""Turns the last `cargo bench -p seatcore-benches` run into the markdown
tables and ratios of docs/performance.md.

Reads criterion's JSON under target/criterion (the figure criterion prints
as `time:`: the slope estimate when it has one, else the mean) and prints,
per group, one row per case and one column per contender: nanoseconds per
iteration, and millions of operations (reserve/release pairs, list
requests, searches) per second over all threads.

Usage: python3 benches/table.py [path/to/target/criterion]
"""

import json
import sys
from pathlib import Path

CONTENDERS = ["seatcore", "bare_atomic", "parking_lot_bitset", "std_mutex_vec_bool"]


def estimate(directory):
    """(ns per iteration, elements per iteration) of one benchmark."""
    with open(directory / "estimates.json") as f:
        estimates = json.load(f)
    with open(directory / "benchmark.json") as f:
        meta = json.load(f)
    point = (estimates.get("slope") or estimates["mean"])["point_estimate"]
    elements = (meta.get("throughput") or {}).get("Elements", 1)
    return point, elements


def load(root):
    """{group: {case: {contender: (ns, elements)}}}, in the order they ran."""
    groups = {}
    for bench in sorted(root.glob("*/*/*/new/benchmark.json"), key=lambda p: p.stat().st_mtime):
        with open(bench) as f:
            meta = json.load(f)
        case = groups.setdefault(meta["group_id"], {}).setdefault(meta["value_str"], {})
        case[meta["function_id"]] = estimate(bench.parent)
    return groups


def cell(result):
    if result is None:
        return "–"
    ns, elements = result
    return f"{ns:.1f} ns ({elements * 1e3 / ns:.1f} M/s)"


def ratio(groups, group, case, numerator, denominator):
    results = groups.get(group, {}).get(case, {})
    if numerator not in results or denominator not in results:
        return None
    return results[numerator][0] / results[denominator][0]


def main():
    root = Path(sys.argv[1] if len(sys.argv) > 1 else "target/criterion")
    groups = load(root)
    for group, cases in groups.items():
        print(f"\n| `{group}` | " + " | ".join(CONTENDERS) + " |")
        print("|" + "---|" * (len(CONTENDERS) + 1))
        for case, results in cases.items():
            print(f"| {case} | " + " | ".join(cell(results.get(c)) for c in CONTENDERS) + " |")
    print()
    single = ratio(groups, "reserve_release", "1_thread", "seatcore", "bare_atomic")
    same = ratio(groups, "reserve_release", "2_threads_same_word", "std_mutex_vec_bool", "seatcore")
    apart = ratio(groups, "reserve_release", "2_threads_different_words", "std_mutex_vec_bool", "seatcore")
    if single is not None:
        print(f"single-thread reserve+release, seatcore / bare pair: {single:.2f}x (target <= 1.3x)")
    if same is not None:
        print(f"2 threads same word, seatcore throughput / Mutex<Vec<bool>>: {same:.2f}x (target >= 3x)")
    if apart is not None:
        print(f"2 threads different words, seatcore throughput / Mutex<Vec<bool>>: {apart:.2f}x")


if __name__ == "__main__":
    main()
