#!/usr/bin/env python3
"""Draw the deterministic hand-labelling sample from the ShareGPT dev half.

Usage:
    python3 benchmarks/labels/make_sample.py [DEV_JSON] [OUT_JSONL] [N]

Defaults: /tmp/real/dev.json, benchmarks/labels/sharegpt_dev_sample.jsonl, 340.

Selection: conversation ids are sorted by sha256("label-sample:" + id); the
first N conversations that contain at least one human turn followed (later)
by a gpt turn are taken.  Each becomes one example, mirroring the importer:
  instruction = the last human turn that has a gpt turn after it
  output      = the last gpt turn after that human turn
  n_turns     = number of turns in the conversation (all roles)
Standard library only.
"""
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


def sort_key(cid):
    return hashlib.sha256(("label-sample:" + str(cid)).encode("utf-8")).hexdigest()


def extract(conv):
    turns = conv.get("conversations") or []
    last_gpt = None
    for i in range(len(turns) - 1, -1, -1):
        role = turns[i].get("from")
        if role == "gpt" and last_gpt is None:
            last_gpt = i
        elif role == "human" and last_gpt is not None:
            return turns[i].get("value") or "", turns[last_gpt].get("value") or ""
    return None


def main(argv):
    src = argv[1] if len(argv) > 1 else "/tmp/real/dev.json"
    dst = argv[2] if len(argv) > 2 else os.path.join(HERE, "sharegpt_dev_sample.jsonl")
    n = int(argv[3]) if len(argv) > 3 else 340
    with open(src, encoding="utf-8") as f:
        data = json.load(f)
    by_id = {}
    for conv in data:
        by_id.setdefault(str(conv.get("id")), conv)  # first occurrence wins
    rows = []
    for cid in sorted(by_id, key=sort_key):
        pair = extract(by_id[cid])
        if pair is None:
            continue
        instruction, output = pair
        rows.append({"id": cid, "instruction": instruction, "output": output,
                     "n_turns": len(by_id[cid].get("conversations") or [])})
        if len(rows) >= n:
            break
    with open(dst, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False) + "\n")
    print("wrote %d rows to %s" % (len(rows), dst))


if __name__ == "__main__":
    main(sys.argv)
