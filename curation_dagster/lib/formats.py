"""Conversation formats teams already have: OpenAI chat JSONL, ShareGPT and Alpaca.

Each record becomes a list of messages ({"role": system|user|assistant, "content": str}), the one
shape every format converts through. Chat and ShareGPT carry any number of turns, so converting one
into the other and back keeps every message. Alpaca has one exchange: `instruction` and `input` become
one user message (joined by a blank line), so a multi-turn conversation cannot become Alpaca.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass

from curation_dagster.lib.export import HISTORY_KEY
from curation_dagster.lib.importing import IMPORT_FORMATS, ImportFormat, RecordError, _jsonl
from curation_dagster.lib.registry import first_doc_line

SHAREGPT_ROLES = {"system": "system", "human": "user", "user": "user", "gpt": "assistant",
                  "assistant": "assistant", "chatgpt": "assistant", "bing": "assistant", "bard": "assistant",
                  "model": "assistant"}
TO_SHAREGPT = {"system": "system", "user": "human", "assistant": "gpt"}


@dataclass(frozen=True)
class ConversationFormat:
    """A conversation format (one JSON record a conversation, read as JSONL or a JSON array).
    `sniff(record)`: is a parsed record in this format (detect_format asks in registration order)?
    `turns(record)`: its (role, content) pairs, roles mapped onto system/user/assistant, for formats
    whose split dumps `curation import` repairs (repair_turns); or `messages(record)`: the messages
    themselves, never repaired (Alpaca). `record(msgs, extra)`: one record of the format holding
    these messages (`curation convert --to`). RecordError says why a record cannot be either."""

    name: str
    sniff: Callable[[dict], bool]
    record: Callable[[list[dict], dict], dict]
    turns: Callable[[dict], list] | None = None
    messages: Callable[[dict], list[dict]] | None = None


def conversation_format(name: str, description: str = ""):
    """Register the decorated class (static methods sniff, record, and turns or messages) as the
    conversation import / convert format `name`."""
    def register(cls):
        conv = ConversationFormat(name, cls.sniff, cls.record, getattr(cls, "turns", None),
                                  getattr(cls, "messages", None))
        IMPORT_FORMATS.add(name, ImportFormat(name, _jsonl, conversation=conv), description or first_doc_line(cls))
        return cls

    return register


def conversation_formats() -> tuple[str, ...]:
    """The registered conversation formats (what `curation convert` converts between)."""
    return IMPORT_FORMATS.names(lambda f: f.conversation is not None)


def __getattr__(name: str):
    if name == "CONVERSATION_FORMATS":  # the registered names (read from the registry)
        return conversation_formats()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def repairable(fmt: str) -> bool:
    """Does `curation import` repair split conversations of `fmt` (a conversation format read as turns)?"""
    f = IMPORT_FORMATS.get(fmt)
    return f is not None and f.conversation is not None and f.conversation.messages is None


def _conversation(fmt: str) -> ConversationFormat:
    f = IMPORT_FORMATS.get(fmt)
    if f is None or f.conversation is None:
        raise ValueError(f"{fmt!r} is not a conversation format ({', '.join(conversation_formats())})")
    return f.conversation


def sniff(record: dict, default: str = "jsonl") -> str:
    """Which format one parsed JSON record is in (`default`, flat JSONL, when no conversation format fits)."""
    for name in conversation_formats():
        if IMPORT_FORMATS[name].conversation.sniff(record):
            return name
    return default


def messages_of(record: dict, fmt: str, repairs: dict | None = None) -> list[dict]:
    """The record's messages; RecordError when it is not a well-formed conversation.

    Strict by default (what `curation convert` uses: every message kept as it is). With a `repairs`
    dict (what `curation import` passes), chat and ShareGPT conversations from split dumps are
    repaired instead of quarantined (see `repair_turns`), and the dict says what was done:
    {"leading_assistant_dropped": turns, "same_role_merged": merges, "blank_turns_dropped": turns}
    (only the keys that apply). Alpaca records have one exchange and are never repaired."""
    conv = _conversation(fmt)
    if conv.messages is not None:
        msgs = conv.messages(record)
    elif repairs is not None:
        msgs = repair_turns(conv.turns(record), repairs)
    else:
        msgs = [_message(role, content, i) for i, (role, content) in enumerate(conv.turns(record))]
    _check_order(msgs)
    return msgs


def record_of(msgs: list[dict], fmt: str, extra: dict | None = None) -> dict:
    """One record of `fmt` holding these messages (`extra`: other top-level fields, e.g. an id)."""
    return _conversation(fmt).record(msgs, dict(extra or {}))


# ------------------------------------------------------------------------------------------------
# The formats: one decorated class each (add one here, plus its test)
# ------------------------------------------------------------------------------------------------


@conversation_format("chat")
class _Chat:
    """OpenAI chat JSONL: {"messages": [{"role", "content"}, ...]}, any number of turns"""

    @staticmethod
    def sniff(record: dict) -> bool:
        return isinstance(record.get("messages"), list)

    @staticmethod
    def turns(record: dict) -> list[tuple[str | None, object]]:
        raw = record.get("messages")
        if not isinstance(raw, list):
            raise RecordError("no messages list")
        return [(m.get("role"), m.get("content")) if isinstance(m, dict) else (None, None) for m in raw]

    @staticmethod
    def record(msgs: list[dict], extra: dict) -> dict:
        return {**extra, "messages": [{"role": m["role"], "content": m["content"]} for m in msgs]}


@conversation_format("sharegpt")
class _ShareGPT:
    """ShareGPT: {"conversations": [{"from": human / gpt / system, "value"}, ...]}, any number of turns"""

    @staticmethod
    def sniff(record: dict) -> bool:
        return isinstance(record.get("conversations"), list)

    @staticmethod
    def turns(record: dict) -> list[tuple[str | None, object]]:
        raw = record.get("conversations")
        if not isinstance(raw, list):
            raise RecordError("no conversations list")
        turns = []
        for i, m in enumerate(raw):
            who = m.get("from") if isinstance(m, dict) else None
            role = SHAREGPT_ROLES.get(str(who).lower()) if who is not None else None
            if role is None:
                raise RecordError(f"turn {i + 1} is from {who!r}, not one of {', '.join(sorted(SHAREGPT_ROLES))}")
            turns.append((role, m.get("value")))
        return turns

    @staticmethod
    def record(msgs: list[dict], extra: dict) -> dict:
        return {**extra, "conversations": [{"from": TO_SHAREGPT[m["role"]], "value": m["content"]} for m in msgs]}


@conversation_format("alpaca")
class _Alpaca:
    """Alpaca: {"instruction", "input", "output", "system"?}, one exchange (never repaired)"""

    @staticmethod
    def sniff(record: dict) -> bool:
        return "instruction" in record and "output" in record and "input" in record

    @staticmethod
    def messages(record: dict) -> list[dict]:
        instruction, inp, output = record.get("instruction"), record.get("input"), record.get("output")
        for name, v in (("instruction", instruction), ("input", inp), ("output", output),
                        ("system", record.get("system"))):
            if v is not None and not isinstance(v, str):
                raise RecordError(f"{name} has type {type(v).__name__}, not text")
        user = "\n\n".join(t for t in (instruction, inp) if t and t.strip())
        return ([{"role": "system", "content": record["system"]}] if record.get("system") else []) + [
            _message("user", user, 0), _message("assistant", output, 1)]

    @staticmethod
    def record(msgs: list[dict], extra: dict) -> dict:
        system = [m["content"] for m in msgs if m["role"] == "system"]
        turns = [m for m in msgs if m["role"] != "system"]
        if len(turns) != 2:
            raise RecordError(f"{len(turns) // 2} exchanges: Alpaca holds one (convert to chat or sharegpt instead)")
        out = {**extra, "instruction": turns[0]["content"], "input": "", "output": turns[1]["content"]}
        if system:
            out["system"] = system[0]
        return out


def repair_turns(turns: list[tuple[str | None, object]], repairs: dict) -> list[dict]:
    """Messages of a conversation cut out of a longer one (split ShareGPT dumps), made importable.

    In this order:
    1. Blank turns (empty or whitespace-only text, or null) are dropped: they hold nothing to learn
       from, and in real dumps they sit where a user only pressed "continue" (between two replies).
    2. Assistant turns before the first user turn (after the optional system prompt) are DROPPED:
       they answer a question that lies in the previous part of the split, so they cannot be
       learned from; the rest of the conversation is imported.
    3. Consecutive turns by the same role are MERGED into one, their texts joined by a blank line
       ("\n\n"), not quarantined: in real dumps they are one reply split in two, or a user who sent
       two messages before the answer; joined, the conversation alternates again and no text is lost.
    What stays a RecordError (the record is quarantined): an unknown role, a non-text content, a
    system prompt after the first turn, a conversation with no user -> assistant exchange left
    after the drops, and one that ends with a user turn.
    `repairs` gains the number of turns of each kind: leading_assistant_dropped, same_role_merged
    (turns merged into the one before), blank_turns_dropped; only for kinds that happened.
    """
    present: list[dict] = []
    blank = 0
    for i, (role, content) in enumerate(turns):
        if role not in ("system", "user", "assistant"):
            raise RecordError(f"message {i + 1} has role {role!r}")
        if content is None or (isinstance(content, str) and not content.strip()):
            blank += 1
            continue
        if not isinstance(content, str):
            raise RecordError(f"message {i + 1} ({role}) has {type(content).__name__} content, not text")
        present.append({"role": role, "content": content})
    start = 0
    while start < len(present) and present[start]["role"] == "system":
        start += 1
    leading = 0
    while start + leading < len(present) and present[start + leading]["role"] == "assistant":
        leading += 1
    del present[start:start + leading]
    kept: list[dict] = []
    merged = 0
    for m in present:
        if kept and kept[-1]["role"] == m["role"]:
            kept[-1]["content"] += "\n\n" + m["content"]
            merged += 1
        else:
            kept.append(m)
    roles = [m["role"] for m in kept]
    if "system" in roles[1:]:
        raise RecordError(f"roles out of order: {', '.join(r for r, _ in turns)} (a system prompt after the first turn)")
    if not any(a == "user" and b == "assistant" for a, b in zip(roles, roles[1:])):
        what = [f"{leading} leading assistant turn(s) dropped"] if leading else []
        what += [f"{blank} blank turn(s) dropped"] if blank else []
        raise RecordError("no user -> assistant exchange" + (f" left ({', '.join(what)})" if what else "")
                          + (": " + ", ".join(r for r, _ in turns) if turns else ": no messages"))
    for key, n in (("leading_assistant_dropped", leading), ("same_role_merged", merged), ("blank_turns_dropped", blank)):
        if n:
            repairs[key] = repairs.get(key, 0) + n
    return kept


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
