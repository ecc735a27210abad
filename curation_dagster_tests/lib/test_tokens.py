"""Token counts from tokenizer.json read directly match transformers' tokenizer over the same folder."""

import json
from pathlib import Path

from transformers import AutoTokenizer

from curation_dagster.lib.embedding import DEFAULT_MODEL, resolve_model_path
from curation_dagster.lib.tokens import _tokenizer, count_tokens

TEXTS = [
    "", "Hello", "Write a short summary about our security training for the weekly newsletter, please.",
    "Ünïcödé façade — naïve café 東京 🙂 emoji\ttabs\nnew lines",
    "def f(x):\n    return {'a': [1, 2, 3]}  # code with symbols <>&%$#@!",
    " ".join(["a long answer with many words that goes well past the embedding model's 128 tokens"] * 40),
    "URL https://example.com/path?q=1&r=2 and mail someone@example.org, numbers 3.14159 1,000,000",
]


def test_counts_are_transformers_counts_and_never_truncated():
    readme = Path(__file__).resolve().parents[2] / "README.md"
    texts = TEXTS + [p for p in readme.read_text().split("\n\n") if p.strip()][:300]
    reference = AutoTokenizer.from_pretrained(resolve_model_path(DEFAULT_MODEL), local_files_only=True)
    want = [len(ids) for ids in reference(texts, add_special_tokens=False, truncation=False, verbose=False)["input_ids"]]
    assert count_tokens(texts) == want
    assert count_tokens(TEXTS[5:6])[0] > 500  # past the file's 128-token truncation
    assert hasattr(_tokenizer(DEFAULT_MODEL), "encode_batch")  # the tokenizers library, not transformers


def test_a_folder_without_tokenizer_json_falls_back_to_transformers(tmp_path):
    src = Path(resolve_model_path(DEFAULT_MODEL))
    for name in ("vocab.txt", "tokenizer_config.json", "special_tokens_map.json", "config.json"):
        (tmp_path / name).write_bytes((src / name).read_bytes())
    assert json.loads((tmp_path / "tokenizer_config.json").read_text())  # a real config, no tokenizer.json
    assert count_tokens(TEXTS, str(tmp_path)) == count_tokens(TEXTS)
    assert not hasattr(_tokenizer(str(tmp_path)), "encode_batch")
