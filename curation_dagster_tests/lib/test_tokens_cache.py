"""Token counts of the export check, kept between validations: each example is tokenized once."""

import numpy as np

from curation_dagster.lib import tokens


def test_cached_counts_equal_fresh_ones_and_only_new_texts_are_tokenized(tmp_path, monkeypatch):
    texts = ["Hello there, how are you?", "A second, longer example about invoices and refunds.", "Hello there, how are you?"]
    fresh = tokens.count_tokens(texts)
    assert fresh[0] == fresh[2] and fresh[0] > 3  # the packaged tokenizer splits words and punctuation
    seen = []
    real = tokens.count_tokens
    monkeypatch.setattr(tokens, "count_tokens", lambda t, p=tokens.DEFAULT_MODEL: seen.append(list(t)) or real(t, p))
    cache = tmp_path / "state" / "x.token_counts.npz"
    assert tokens.count_tokens_cached(texts, cache=cache) == fresh
    assert seen == [texts] and cache.is_file()
    # the next validation: two known texts and one new one; only the new one reaches the tokenizer
    seen.clear()
    again = tokens.count_tokens_cached([texts[1], "Brand new text.", texts[0]], cache=cache)
    assert seen == [["Brand new text."]] and again == [fresh[1], real(["Brand new text."])[0], fresh[0]]
    # the file now holds exactly that call's texts
    with np.load(cache) as z:
        assert len(z["keys"]) == 3
    # an unreadable file counts everything again
    seen.clear()
    cache.write_bytes(b"garbage")
    assert tokens.count_tokens_cached(texts, cache=cache) == fresh and seen == [texts]
    # no cache: plain counting
    assert tokens.count_tokens_cached(texts, cache=None) == fresh
