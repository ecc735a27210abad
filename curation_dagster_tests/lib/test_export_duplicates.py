"""The export leaves out examples whose chat record duplicates another's, by the rule its check uses."""

import pandas as pd

from curation_dagster.lib.dedup import deduplicate_pool
from curation_dagster.lib.export import chat_duplicates, drop_chat_duplicates, to_chat_record

# Two generated support replies (from a 20,470-row scale run): the pool's dedup reads instruction,
# input message and output apart and finds them under 0.7; the user turn joins instruction and input
# message, and the pair reaches 0.708 there.
ASK = ("Hi Maya,\n\nMy data is not syncing between the web version and the mobile app. Changes I make on my "
       "phone do not show up on my laptop. Is this a known issue?\n\n")
FIX = ("Thank you for the detailed description of the sync problem. You are not alone, as a small number of "
       "users are seeing the same sync issue this week.")
ROWS = pd.DataFrame([
    {"generation_id": "michael", "quality_score": 0.9, "template_id": "customer_support_reply",
     "instruction": "reply to Michael about the sync error in the mobile app, tell them the fix ships in the next "
                    "update on Monday, June 15.",
     "input_message": ASK + "Best,\nMichael Gray",
     "output": f"Dear Michael,\n\n{FIX}\n\nOur engineers have already prepared a fix, and it will be released on "
               "Monday, June 15. None of your data has been lost, and everything is safely stored on our servers."
               "\n\nThanks again for your patience.\n\nWarm regards,\nMaya Murphy"},
    {"generation_id": "noah", "quality_score": 0.4, "template_id": "customer_support_reply",
     "instruction": "Reply to Noah about the sync error in the mobile app, tell them the fix ships in the next "
                    "update on Monday, June 15.",
     "input_message": ASK + "Cheers,\nNoah",
     "output": f"Good morning Noah,\n\n{FIX} Our engineers have already prepared a fix, and it will be released "
               "on Monday, June 15. As a workaround, you can pull down on the main screen to refresh your data "
               "manually. None of your data has been lost, and everything is safely stored on our servers.\n\n"
               "Thanks again for your patience.\n\nSincerely,\nMaya Kowalski"},
    {"generation_id": "other", "quality_score": 0.5, "template_id": "general",
     "instruction": "Write a haiku about autumn leaves.", "input_message": None,
     "output": "Red leaves drift and fall\nquiet paths remember them\nthe wind keeps the count"},
])


def test_a_pair_the_pool_keeps_is_one_example_in_the_export():
    pool_hits = deduplicate_pool(ROWS["generation_id"].tolist(), [0, 0, 0], ROWS["quality_score"].tolist(),
                                 ROWS["instruction"].tolist(), ROWS["input_message"].tolist(),
                                 ROWS["output"].tolist(), vectors=None)
    assert pool_hits == []
    records = [to_chat_record(r) for r in ROWS.to_dict("records")]
    hits = chat_duplicates(ROWS["generation_id"].tolist(), records)
    assert [(h.generation_id, h.duplicate_of, h.kind) for h in hits] == [("noah", "michael", "near_duplicate")]
    assert 0.7 <= hits[0].similarity < 0.75


def test_of_a_pair_the_shipped_one_stays_then_the_better_one():
    kept, hits = drop_chat_duplicates(ROWS, shipped=None)
    assert kept["generation_id"].tolist() == ["michael", "other"] and [h.generation_id for h in hits] == ["noah"]
    kept, hits = drop_chat_duplicates(ROWS, shipped={"noah", "other"})
    assert kept["generation_id"].tolist() == ["noah", "other"] and hits[0].duplicate_of == "noah"
    empty, none = drop_chat_duplicates(ROWS.iloc[0:0], None)
    assert empty.empty and none == []


def test_signatures_kept_between_searches_give_the_same_hits_and_hash_only_new_pairs(tmp_path, monkeypatch):
    from curation_dagster.lib import export

    records = [to_chat_record(r) for r in ROWS.to_dict("records")]
    ids = ROWS["generation_id"].tolist()
    cache = tmp_path / "state" / "x.chat_signatures.npz"
    hashed = []
    real = export.row_signatures
    monkeypatch.setattr(export, "row_signatures", lambda u, m, a: hashed.append(len(u)) or real(u, m, a))
    hits = chat_duplicates(ids, records, signature_cache=cache)
    assert [(h.generation_id, h.duplicate_of, h.kind) for h in hits] == [("noah", "michael", "near_duplicate")]
    assert hashed == [3] and cache.is_file()
    # the next search: the three known pairs are read back, only the new record is hashed
    hashed.clear()
    new = {"messages": [{"role": "user", "content": "Write a limerick about tea."},
                        {"role": "assistant", "content": "A kettle once sang in the night"}]}
    again = chat_duplicates(ids + ["tea"], records + [new], signature_cache=cache)
    assert hashed == [1] and [(h.generation_id, h.duplicate_of) for h in again] == [("noah", "michael")]
    # what is read back is what hashing gives: the same signatures and exact keys as no cache
    turns = [{m["role"]: m["content"] for m in r["messages"]} for r in records]
    users, replies = [t["user"] for t in turns], [t["assistant"] for t in turns]
    kept = export.chat_signatures(users, replies, cache)
    fresh = real(users, [None] * 3, replies)
    assert kept.exact_keys == fresh.exact_keys and (kept.signatures == fresh.signatures).all()
    # an unreadable file hashes everything again
    cache.write_bytes(b"garbage")
    hashed.clear()
    assert len(chat_duplicates(ids, records, signature_cache=cache)) == 1 and hashed == [3]
