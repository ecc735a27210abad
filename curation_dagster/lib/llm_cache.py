"""LLM answers kept by request, so a re-run or a backfill asks the endpoint nothing it asked before.

The key is lib.llm.request_key: sha256(prompt version, model, canonical JSON of the messages and the
sampling parameters). Another prompt, prompt version, model or parameter is another key. Only
successful answers are stored (a timeout or a 503 is asked again next time), and the first answer
stored for a key stays (INSERT OR IGNORE), so the same request always gets the same cached answer.
One DuckDB table in a file of its own (data/llm_cache.duckdb, beside the warehouse).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb


@dataclass(frozen=True)
class CachedResponse:
    prompt_version: str
    model: str
    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    finish_reason: str | None = None


class LLMCache:
    def __init__(self, path: str | Path):
        self.path = str(path)
        Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        with duckdb.connect(self.path) as con:
            con.execute("CREATE TABLE IF NOT EXISTS llm_responses (key VARCHAR PRIMARY KEY, prompt_version VARCHAR, "
                        "model VARCHAR, text VARCHAR, prompt_tokens BIGINT, completion_tokens BIGINT, "
                        "finish_reason VARCHAR, created_at TIMESTAMP DEFAULT current_timestamp)")

    def __repr__(self) -> str:
        return f"LLMCache({self.path!r})"

    def get(self, keys: list[str]) -> dict[str, CachedResponse]:
        if not keys:
            return {}
        with duckdb.connect(self.path) as con:
            con.execute("CREATE TEMP TABLE wanted (key VARCHAR)")
            con.executemany("INSERT INTO wanted VALUES (?)", [(k,) for k in set(keys)])
            rows = con.execute("SELECT c.key, c.prompt_version, c.model, c.text, c.prompt_tokens, "
                               "c.completion_tokens, c.finish_reason FROM llm_responses c JOIN wanted USING (key)"
                               ).fetchall()
        return {k: CachedResponse(v, m, t, int(p or 0), int(c or 0), f) for k, v, m, t, p, c, f in rows}

    def put(self, items: dict[str, CachedResponse]) -> None:
        if not items:
            return
        with duckdb.connect(self.path) as con:
            con.executemany(
                "INSERT OR IGNORE INTO llm_responses (key, prompt_version, model, text, prompt_tokens, "
                "completion_tokens, finish_reason) VALUES (?, ?, ?, ?, ?, ?, ?)",
                [(k, r.prompt_version, r.model, r.text, r.prompt_tokens, r.completion_tokens, r.finish_reason)
                 for k, r in sorted(items.items())])

    def __len__(self) -> int:
        with duckdb.connect(self.path) as con:
            return con.execute("SELECT count(*) FROM llm_responses").fetchone()[0]
