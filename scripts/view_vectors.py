#!/usr/bin/env python3
"""Computes the view-digest golden vectors of schemas/integrity.md §11 independently of the Swift
code (hashlib only) and writes schemas/integrity/view-vectors.json.

The three records are the canonical JSON the projection gives for the scenario of §11.7 (two
cases opened, one allocated, one probation source); everything else is computed here."""
import hashlib
import json
import pathlib
import sys

DEPTH = 16
BUCKETS = 1 << DEPTH


def sha(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def bucket_of(key: str) -> int:
    d = sha(key.encode())
    return d[0] << 8 | d[1]


def leaf(key: str, canonical: bytes) -> bytes:
    return sha(b"accord-view-leaf-v1\n" + key.encode() + b"\n" + canonical)


def bucket_hash(entries) -> bytes:
    body = b"accord-view-bucket-v1\n"
    for key, lf in sorted(entries, key=lambda e: e[0].encode()):
        body += key.encode() + b"\n" + lf.hex().encode() + b"\n"
    return sha(body)


def node(left: bytes, right: bytes) -> bytes:
    return sha(b"\x01" + left + right)


def tree(leaves):
    """Heap-ordered nodes (1 is the root, bucket b at BUCKETS + b) of a view with these leaves."""
    by_bucket = {}
    for key, lf in leaves:
        by_bucket.setdefault(bucket_of(key), []).append((key, lf))
    empty = bucket_hash([])
    nodes = [b""] * (2 * BUCKETS)
    for b in range(BUCKETS):
        nodes[BUCKETS + b] = bucket_hash(by_bucket[b]) if b in by_bucket else empty
    for i in range(BUCKETS - 1, 0, -1):
        nodes[i] = node(nodes[2 * i], nodes[2 * i + 1])
    return nodes, by_bucket


def path(nodes, bucket):
    out, i = [], BUCKETS + bucket
    while i > 1:
        out.append(nodes[i ^ 1].hex())
        i >>= 1
    return out


def main():
    root_dir = pathlib.Path(__file__).resolve().parent.parent
    target = root_dir / "schemas" / "integrity" / "view-vectors.json"
    existing = json.loads(target.read_text())
    records = existing["records"]
    leaves = [(r["key"], leaf(r["key"], r["canonical"].encode())) for r in records]
    nodes, by_bucket = tree(leaves)
    out_records = []
    for r, (key, lf) in zip(records, leaves):
        b = bucket_of(key)
        out_records.append({
            "key": key, "canonical": r["canonical"], "bucket": b, "leaf": lf.hex(),
            "bucketHash": bucket_hash(by_bucket[b]).hex(), "path": path(nodes, b),
        })
    # Two keys in one bucket: their bucket hash orders them by key bytes.
    seen, pair = {}, None
    n = 0
    while pair is None:
        key = "case:X%06d" % n
        b = bucket_of(key)
        if b in seen:
            pair = (seen[b], key, b)
        seen[b] = key
        n += 1
    a_key, b_key, shared = pair
    a_leaf, b_leaf = sha(b"a"), sha(b"b")
    levels = [bucket_hash([])]
    for _ in range(DEPTH):
        levels.append(node(levels[-1], levels[-1]))
    vectors = {
        "description": existing["description"],
        "emptyBucket": levels[0].hex(),
        "emptyRoot": levels[DEPTH].hex(),
        "node": {"left": sha(b"left").hex(), "right": sha(b"right").hex(),
                 "hash": node(sha(b"left"), sha(b"right")).hex()},
        "sharedBucket": {"bucket": shared, "leaves": [{"key": a_key, "leaf": a_leaf.hex()}, {"key": b_key, "leaf": b_leaf.hex()}],
                         "hash": bucket_hash([(a_key, a_leaf), (b_key, b_leaf)]).hex()},
        "records": out_records,
        "root": nodes[1].hex(),
    }
    target.write_text(json.dumps(vectors, indent=2, ensure_ascii=False) + "\n")
    print("root", nodes[1].hex(), file=sys.stderr)


if __name__ == "__main__":
    main()
