"""Token counts for the length limit of exported examples.

Counted with the packaged all-MiniLM-L6-v2 WordPiece tokenizer (offline). It is not the tokenizer of
the model being fine-tuned; on English email text it lands within roughly +-15% of GPT-style BPE
counts, which is close enough for a guard against runaway examples. Swap `tokenizer_path` for the
target model's tokenizer folder for exact counts.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from curation_dagster.lib.embedding import DEFAULT_MODEL, resolve_model_path
from curation_dagster.lib.memory import RunMemo, per_run_cache

#: the one token budget of an example (every message of the exported chat record): the filter rejects
#: longer rows (rule too_many_tokens) and the export's blocking check verifies the same number. Real
#: assistant conversations (ShareGPT V3 dev half) exceed it in 0.3% of cases.
DEFAULT_MAX_TOKENS = 4_096
DEFAULT_TOKENIZER = DEFAULT_MODEL


@lru_cache(maxsize=2)
def _tokenizer(tokenizer_path: str):
    """The folder's tokenizer.json read by the `tokenizers` library itself when there is one (what
    transformers' fast tokenizer wraps: the same counts, tested), else transformers' AutoTokenizer.
    Importing transformers pulls in torch: about 3 s of every fresh run process that counts tokens."""
    folder = Path(resolve_model_path(tokenizer_path))
    if (folder / "tokenizer.json").is_file():
        from tokenizers import Tokenizer

        tok = Tokenizer.from_file(str(folder / "tokenizer.json"))
        tok.no_truncation()  # the file truncates at the embedding model's 128 tokens: a count must not
        tok.no_padding()
        return tok
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(str(folder), local_files_only=True)


def count_tokens(texts: list[str], tokenizer_path: str = DEFAULT_MODEL) -> list[int]:
    if not texts:
        return []
    tok = _tokenizer(tokenizer_path)
    if hasattr(tok, "encode_batch"):  # tokenizers.Tokenizer
        return [len(e.ids) for e in tok.encode_batch(list(texts), add_special_tokens=False)]
    enc = tok(texts, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]
    return [len(ids) for ids in enc]


#: (text, tokenizer) -> tokens of the texts remember_token_counts was last given
_COUNTED: RunMemo = per_run_cache(RunMemo())


def remember_token_counts(texts: list[str], tokenizer_path: str = DEFAULT_MODEL) -> None:
    """Count these texts in one batch (the tokenizer's threads) and keep the counts, replacing the last
    batch's, for token_count to read back."""
    _COUNTED.clear()
    todo = list(dict.fromkeys(texts))
    _COUNTED.update(((t, tokenizer_path), n) for t, n in zip(todo, count_tokens(todo, tokenizer_path)))


def token_count(text: str, tokenizer_path: str = DEFAULT_MODEL) -> int:
    """count_tokens of one text: read back when remember_token_counts counted it, else counted now."""
    known = _COUNTED.get((text, tokenizer_path))
    return known if known is not None else count_tokens([text], tokenizer_path)[0]


def example_text(messages: list[dict]) -> str:
    """The text the budget counts: every message's content, one per line (as the export check reads it)."""
    return "\n".join(str(m.get("content", "")) for m in messages)


def count_example_tokens(messages: list[dict], tokenizer_path: str = DEFAULT_MODEL) -> int:
    return count_tokens([example_text(messages)], tokenizer_path)[0]
