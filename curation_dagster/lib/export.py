"""OpenAI chat fine-tuning records and atomic writes of JSONL + manifest (the split: lib.splits)."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from pathlib import Path

import numpy as np
import pandas as pd

from curation_dagster.lib.dedup import DuplicateHit, RowSignatures, find_duplicates, row_signatures
from curation_dagster.lib.files import write_atomic
from curation_dagster.lib.text import content_hash

ROLES_ORDER = ("system", "user", "assistant")
HISTORY_KEY = "conversation_history"


def system_prompt(identity_json: str | None, template_id: str | None) -> str | None:
    """Who the assistant writes as, from the identity settings; None when they cannot be read."""
    try:
        ident = json.loads(identity_json) if identity_json else None
    except ValueError:
        ident = None
    if isinstance(ident, dict) and isinstance(ident.get("system_prompt"), str) and ident["system_prompt"].strip():
        return ident["system_prompt"]  # imported conversations keep their own system prompt, verbatim
    if not isinstance(ident, dict) or not ident.get("name"):
        return None
    who = ident["name"]
    if ident.get("role") and ident.get("company"):
        who += f", {ident['role']} at {ident['company']}"
    elif ident.get("role"):
        who += f", {ident['role']}"
    text = f"You draft emails and messages on behalf of {who}."
    if ident.get("tone"):
        text += f" Write in a {ident['tone']} tone."
    if template_id and template_id != "general":
        text += f" Task: {template_id.replace('_', ' ')}."
    return text


def conversation_history(input_message) -> list[dict] | None:
    """Earlier turns of an imported conversation, kept in input_message as {"conversation_history": [...]}."""
    if not isinstance(input_message, str) or not input_message.startswith('{"' + HISTORY_KEY):
        return None
    try:
        turns = json.loads(input_message)[HISTORY_KEY]
    except (ValueError, KeyError, TypeError):
        return None
    ok = isinstance(turns, list) and all(isinstance(t, dict) and set(t) == {"role", "content"} for t in turns)
    return turns if ok else None


#: the columns a chat record is made of (to_chat_record reads nothing else)
RECORD_COLUMNS = ("instruction", "input_message", "identity", "template_id", "output")


def to_chat_record(row: dict) -> dict:
    user = (row.get("instruction") or "").strip()
    history = conversation_history(row.get("input_message"))
    if row.get("input_message") and history is None:
        user += "\n\nMessage I am replying to:\n" + str(row["input_message"]).strip()
    messages = []
    sys_text = system_prompt(row.get("identity"), row.get("template_id"))
    if sys_text:
        messages.append({"role": "system", "content": sys_text})
    messages += history or []
    messages.append({"role": "user", "content": user})
    messages.append({"role": "assistant", "content": (row.get("output") or "").strip()})
    return {"messages": messages}


def chat_signatures(users: list[str | None], replies: list[str | None], cache: Path | None) -> RowSignatures:
    """lib.dedup.row_signatures of (user turn, reply) pairs, as chat_duplicates hashes them. With `cache`
    (one .npz), the pairs hashed in the last call are read back instead: an export and its two
    validations hash the same 50,000 pairs, a refresh only its new ones. The file is rewritten with
    exactly this call's pairs; an unreadable one hashes everything again."""
    if cache is None:
        return row_signatures(users, [None] * len(users), replies)
    # row_signatures reads None as "", so both are one key
    keys = [bytes.fromhex(content_hash("chat-minhash:64:0", u or "", a or "")) for u, a in zip(users, replies)]
    known: dict[bytes, tuple[bytes, np.ndarray]] = {}
    try:
        with np.load(cache, allow_pickle=False) as z:
            known = {k.tobytes(): (e.tobytes(), s) for k, e, s in zip(z["keys"], z["exact"], z["signatures"])}
    except (OSError, ValueError, KeyError):
        pass
    todo = [i for i, k in enumerate(keys) if k not in known]
    if todo:
        fresh = row_signatures([users[i] for i in todo], [None] * len(todo), [replies[i] for i in todo])
        for j, i in enumerate(todo):
            known[keys[i]] = (bytes.fromhex(fresh.exact_keys[j]), fresh.signatures[j])
    rows = [known[k] for k in keys]
    sig = np.stack([s for _, s in rows]) if rows else np.zeros((0, 64), dtype=np.uint64)
    if todo or len(known) != len(set(keys)):
        def write(tmp: Path) -> None:
            with open(tmp, "wb") as fh:
                np.savez(fh, keys=np.frombuffer(b"".join(keys), np.uint8).reshape(-1, 32),
                         exact=np.frombuffer(b"".join(e for e, _ in rows), np.uint8).reshape(-1, 32), signatures=sig)

        write_atomic(Path(cache), write)
    return RowSignatures([e.hex() for e, _ in rows], sig)


def chat_duplicates(keys: list[str], records: list[dict | None], order_keys: list[tuple] | None = None,
                    exempt: list[bool] | None = None, signature_cache: Path | None = None) -> list[DuplicateHit]:
    """Exact and near duplicates among chat records on what the model is trained on: the last user
    turn and the assistant reply (lib.dedup's rule: normalised text, word 3-shingle Jaccard >= 0.7).
    The export drops them before writing and its check looks for them again, with this one function,
    because the pool's dedup reads the instruction and the input message apart and the user turn joins
    them (with "Message I am replying to:"), which lifts some pairs just under 0.7 over it: 2 pairs in
    a generated pool of 15,896 rows, enough that a 36,000-row export of a 100,000-row pool failed.
    `signature_cache`: see chat_signatures; beside it (`chat_pairs` for `chat_signatures` in its name) the
    near pairs are kept (lib.pool_pairs), so a refresh compares only records it has not seen. The hits
    are the same with or without them."""
    turns = [turns_of(r) if r else (None, None) for r in records]
    return turn_duplicates(keys, [u for u, _ in turns], [a for _, a in turns], order_keys, exempt, signature_cache)


def turns_of(record: dict) -> tuple[str | None, str | None]:
    """(last user turn, last reply) of a chat record: what chat_duplicates compares."""
    turns = {m["role"]: m.get("content", "") for m in record["messages"]}
    return turns.get("user"), turns.get("assistant")


def turn_duplicates(keys: list[str], users: list[str | None], replies: list[str | None],
                    order_keys: list[tuple] | None = None, exempt: list[bool] | None = None,
                    signature_cache: Path | None = None) -> list[DuplicateHit]:
    """chat_duplicates on the records' (last user turn, reply) pairs, already taken out (turns_of)."""
    if exempt is not None and any(exempt):  # derived rows (lib.variants): near copies of their source by design
        idx = [i for i, e in enumerate(exempt) if not e]
        return turn_duplicates([keys[i] for i in idx], [users[i] for i in idx], [replies[i] for i in idx],
                               [order_keys[i] for i in idx] if order_keys else [(i,) for i in idx],
                               signature_cache=signature_cache)
    known = chat_signatures(users, replies, signature_cache) if signature_cache is not None else None
    pairs = (Path(signature_cache).with_name(Path(signature_cache).name.replace("chat_signatures", "chat_pairs"))
             if signature_cache is not None else None)
    return find_duplicates(keys, order_keys or [(k,) for k in range(len(keys))], users,
                           [None] * len(users), replies, known=known,
                           pairs_cache=pairs if pairs is not None and pairs != Path(signature_cache) else None)


def drop_chat_duplicates(df: pd.DataFrame, shipped: set[str] | None, signature_cache: Path | None = None,
                         turns: tuple[list, list] | None = None) -> tuple[pd.DataFrame, list[DuplicateHit]]:
    """df (rows about to be exported) without those whose chat record duplicates another's, and the
    hits. Of a pair the one already shipped stays, then the higher quality score, then the smaller id.
    `turns`: the rows' (users, replies) when already taken out (lib.chat_lines); else built here."""
    if df.empty:
        return df, []
    ids = df["generation_id"].astype(str).tolist()
    quality = pd.to_numeric(df.get("quality_score", pd.Series(0.0, index=df.index)), errors="coerce").fillna(0.0)
    order = [(g not in (shipped or ()), -float(q), g) for g, q in zip(ids, quality)]
    # variants, paraphrases and negatives (column `derivation`, lib.variants) are not searched: a variant
    # is a near copy of its source on purpose, and shares its split group
    derived = (df["derivation"].notna() & (df["derivation"].astype(str) != "")).tolist() if "derivation" in df else None
    if turns is None:
        pairs = [turns_of(to_chat_record(r)) for r in df[[c for c in RECORD_COLUMNS if c in df]].to_dict("records")]
        turns = [u for u, _ in pairs], [a for _, a in pairs]
    hits = turn_duplicates(ids, list(turns[0]), list(turns[1]), order, derived, signature_cache)
    gone = {h.generation_id for h in hits}
    return df[[g not in gone for g in ids]].reset_index(drop=True), hits


def validate_chat_record(rec: object) -> str | None:
    """Why a parsed JSONL line is not a valid chat fine-tuning example, or None."""
    if not isinstance(rec, dict) or not isinstance(rec.get("messages"), list) or not rec["messages"]:
        return "no messages list"
    roles = []
    for m in rec["messages"]:
        if not isinstance(m, dict) or set(m) != {"role", "content"}:
            return "message must have exactly role and content"
        if m["role"] not in ROLES_ORDER or not isinstance(m["content"], str) or not m["content"].strip():
            return f"bad message with role {m.get('role')!r}"
        roles.append(m["role"])
    turns = roles[1:] if roles[:1] == ["system"] else roles
    # one exchange, or an imported conversation: user/assistant alternating, ending with the assistant
    if not turns or len(turns) % 2 or any(r != ("user", "assistant")[i % 2] for i, r in enumerate(turns)):
        return f"roles out of order: {roles}"
    return None


def jsonl_lines(text: str) -> list[str]:
    """The lines of a JSONL text. Split on "\n" only: str.splitlines() also splits on U+2028, U+2029
    and U+0085, which JSON (ensure_ascii=False) keeps raw inside strings, and real replies contain."""
    lines = text.split("\n")
    return lines[:-1] if lines and lines[-1] == "" else lines


def _not_json(token: str):
    raise ValueError(f"{token} is not JSON (Python's json writes it; jq, JavaScript and Go reject it)")


def read_jsonl_strict(name: str, text: str) -> tuple[list[dict], list[str]]:
    """The records of a JSONL text and what is wrong with its lines: a line that is not JSON is named
    and left out; one that holds NaN or Infinity (which json.loads accepts by default) is named and
    kept, so the checks that read its fields still judge them."""
    records, problems = [], []
    for i, line in enumerate(jsonl_lines(text), 1):
        if not line.strip():
            continue
        try:
            records.append(json.loads(line, parse_constant=_not_json))
        except ValueError as exc:
            problems.append(f"{name} line {i}: {exc}")
            try:
                records.append(json.loads(line))
            except ValueError:
                pass
    return records, problems


def jsonl_line(record: dict) -> str:
    """One record as its JSONL line, without the newline."""
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": "))


def jsonl_bytes(records: list[dict]) -> bytes:
    return "".join(jsonl_line(r) + "\n" for r in records).encode()


def publish_directory(files: dict[str, bytes], target: Path) -> None:
    """Write every file into a fresh temp dir beside `target`, then swap it in with renames, so readers
    see the old export or the new one, never a half-written mix."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        for name, data in files.items():
            with open(tmp / name, "wb") as f:
                f.write(data)
                f.flush()
                os.fsync(f.fileno())
        old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def churn(previous_ids: set[str] | None, current_ids: set[str]) -> dict[str, float | int]:
    """How the selection changed since the last published dataset (None: there was none)."""
    if previous_ids is None:
        return {"previous_examples": 0, "kept": 0, "added": len(current_ids), "dropped": 0, "churn_rate": 0.0}
    kept = len(previous_ids & current_ids)
    dropped = len(previous_ids - current_ids)
    return {"previous_examples": len(previous_ids), "kept": kept, "added": len(current_ids - previous_ids),
            "dropped": dropped, "churn_rate": round(dropped / len(previous_ids), 4) if previous_ids else 0.0}


def explain_churn(change: dict, previous_ids: set[str] | None, current_ids: set[str], pool_ids: set[str],
                  review_rejected: set[str], duplicate_ids: set[str] = frozenset(),
                  judged_low: set[str] = frozenset()) -> dict:
    """`change` (from churn) with its drops split by cause: left the pool (a rule or dedup removed the
    row), rejected in review (the example or its cluster), judged low by the LLM judge (rule
    llm_judge), left out at export as a duplicate of another example's chat record, or displaced by
    the selection (still in the pool, not picked). Only the last is churn the sampler is answerable
    for: `selection_churn_rate` is it over the previous size."""
    dropped = (previous_ids or set()) - current_ids
    left = {g for g in dropped if g not in pool_ids}
    review = (dropped - left) & review_rejected
    judge = (dropped - left - review) & set(judged_low)
    duplicate = (dropped - left - review - judge) & set(duplicate_ids)
    displaced = len(dropped) - len(left) - len(review) - len(judge) - len(duplicate)
    prev = len(previous_ids or ())
    return {**change, "dropped_left_pool": len(left), "dropped_in_review": len(review),
            "dropped_by_judge": len(judge), "dropped_as_duplicate": len(duplicate), "dropped_by_selection": displaced,
            "selection_churn_rate": round(displaced / prev, 4) if prev else 0.0}


def excluded_cluster_ids(dataset_dir: Path, cluster_decisions: pd.DataFrame) -> set[str]:
    """generation_ids of the published dataset whose cluster reviewers have since excluded (decisions
    about the topic model that dataset was cut with; cluster ids mean nothing across a refit)."""
    prov, manifest = Path(dataset_dir) / "provenance.jsonl", Path(dataset_dir) / "manifest.json"
    if cluster_decisions.empty or not prov.exists() or not manifest.exists():
        return set()
    try:
        version = str(json.loads(manifest.read_text()).get("topic_model_version", ""))
    except ValueError:
        return set()
    cd = cluster_decisions[(cluster_decisions["model_version"].astype(str) == version)
                           & (cluster_decisions["state"] == "rejected")]
    excluded = set(cd["cluster_id"].astype(int))
    with open(prov, encoding="utf-8") as f:
        rows = [json.loads(line) for line in f if line.strip()]
    return {r["generation_id"] for r in rows if r.get("cluster_id") is not None and int(r["cluster_id"]) in excluded}


def published_ids(dataset_dir: Path) -> set[str] | None:
    """generation_ids of the dataset currently published in dataset_dir, from its provenance file."""
    prov = Path(dataset_dir) / "provenance.jsonl"
    if not prov.exists():
        return None
    with open(prov, encoding="utf-8") as f:
        return {json.loads(line)["generation_id"] for line in f if line.strip()}
