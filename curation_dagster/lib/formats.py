"""Conversation formats teams already have: OpenAI chat JSONL, ShareGPT and Alpaca.

Each record becomes a list of messages ({"role": system|user|assistant, "content": str}), the one
shape every format converts through. Chat and ShareGPT carry any number of turns, so converting one
into the other and back keeps every message. Alpaca has one exchange: `instruction` and `input` become
one user message (joined by a blank line), so a multi-turn conversation cannot become Alpaca.
"""

from __future__ import annotations

import json

from curation_dagster.lib.export import HISTORY_KEY
from curation_dagster.lib.importing import RecordError

CONVERSATION_FORMATS = ("chat", "sharegpt", "alpaca")
SHAREGPT_ROLES = {"system": "system", "human": "user", "user": "user", "gpt": "assistant",
                  "assistant": "assistant", "chatgpt": "assistant", "bing": "assistant", "bard": "assistant",
                  "model": "assistant"}
TO_SHAREGPT = {"system": "system", "user": "human", "assistant": "gpt"}


def sniff(record: dict) -> str:
    """Which format one parsed JSON record is in (flat JSONL when none fits)."""
    if isinstance(record.get("messages"), list):
        return "chat"
    if isinstance(record.get("conversations"), list):
        return "sharegpt"
    if "instruction" in record and "output" in record and "input" in record:
        return "alpaca"
    return "jsonl"


def messages_of(record: dict, fmt: str) -> list[dict]:
    """The record's messages; RecordError when it is not a well-formed conversation."""
    if fmt == "chat":
        raw = record.get("messages")
        if not isinstance(raw, list):
            raise RecordError("no messages list")
        msgs = [_message(m.get("role") if isinstance(m, dict) else None, m.get("content") if isinstance(m, dict)
                         else None, i) for i, m in enumerate(raw)]
    elif fmt == "sharegpt":
        raw = record.get("conversations")
        if not isinstance(raw, list):
            raise RecordError("no conversations list")
        msgs = []
        for i, m in enumerate(raw):
            who = m.get("from") if isinstance(m, dict) else None
            role = SHAREGPT_ROLES.get(str(who).lower()) if who is not None else None
            if role is None:
                raise RecordError(f"turn {i + 1} is from {who!r}, not one of {', '.join(sorted(SHAREGPT_ROLES))}")
            msgs.append(_message(role, m.get("value"), i))
    elif fmt == "alpaca":
        instruction, inp, output = record.get("instruction"), record.get("input"), record.get("output")
        for name, v in (("instruction", instruction), ("input", inp), ("output", output), ("system", record.get("system"))):
            if v is not None and not isinstance(v, str):
                raise RecordError(f"{name} has type {type(v).__name__}, not text")
        user = "\n\n".join(t for t in (instruction, inp) if t and t.strip())
        msgs = ([{"role": "system", "content": record["system"]}] if record.get("system") else []) + [
            _message("user", user, 0), _message("assistant", output, 1)]
    else:
        raise ValueError(f"{fmt!r} is not a conversation format ({', '.join(CONVERSATION_FORMATS)})")
    _check_order(msgs)
    return msgs


def _message(role, content, i: int) -> dict:
    if role not in ("system", "user", "assistant"):
        raise RecordError(f"message {i + 1} has role {role!r}")
    if not isinstance(content, str) or not content.strip():
        raise RecordError(f"message {i + 1} ({role}) has no text")
    return {"role": role, "content": content}


def _check_order(msgs: list[dict]) -> None:
    roles = [m["role"] for m in msgs]
    turns = roles[1:] if roles[:1] == ["system"] else roles
    if not turns:
        raise RecordError("no user or assistant message")
    for i, r in enumerate(turns):
        if r != ("user", "assistant")[i % 2]:
            raise RecordError(f"roles out of order: {', '.join(roles)} (expected system?, then user/assistant turns)")
    if turns[-1] != "assistant":
        raise RecordError("the conversation ends with a user turn: no reply to learn from")


def record_of(msgs: list[dict], fmt: str, extra: dict | None = None) -> dict:
    """One record of `fmt` holding these messages (`extra`: other top-level fields, e.g. an id)."""
    extra = dict(extra or {})
    if fmt == "chat":
        return {**extra, "messages": [{"role": m["role"], "content": m["content"]} for m in msgs]}
    if fmt == "sharegpt":
        return {**extra, "conversations": [{"from": TO_SHAREGPT[m["role"]], "value": m["content"]} for m in msgs]}
    if fmt == "alpaca":
        system = [m["content"] for m in msgs if m["role"] == "system"]
        turns = [m for m in msgs if m["role"] != "system"]
        if len(turns) != 2:
            raise RecordError(f"{len(turns) // 2} exchanges: Alpaca holds one (convert to chat or sharegpt instead)")
        out = {**extra, "instruction": turns[0]["content"], "input": "", "output": turns[1]["content"]}
        if system:
            out["system"] = system[0]
        return out
    raise ValueError(f"{fmt!r} is not a conversation format ({', '.join(CONVERSATION_FORMATS)})")


def contract_fields(msgs: list[dict]) -> dict:
    """The data-contract text fields of a conversation: the last exchange is the example; earlier turns
    are kept in input_message (as {"conversation_history": [...]}) and the system prompt in identity,
    so the exported chat record is the original conversation again."""
    system = [m["content"] for m in msgs if m["role"] == "system"]
    turns = [m for m in msgs if m["role"] != "system"]
    history = turns[:-2]
    return {
        "instruction": turns[-2]["content"],
        "output": turns[-1]["content"],
        "input_message": json.dumps({HISTORY_KEY: history}, ensure_ascii=False) if history else None,
        "identity": json.dumps({"system_prompt": system[0]}, ensure_ascii=False) if system else None,
    }
