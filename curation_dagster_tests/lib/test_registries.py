"""The registries (one name set per pluggable part): the names that exist today, written out by hand,
and a throwaway part registered in a test being usable through the public entry point without
editing another file (each test removes what it registered)."""

import json

import numpy as np
import pytest

from curation_dagster.lib.clustering import (CLUSTERING_ALGORITHMS, ClusterSettings, cluster_embeddings,
                                             grid_algorithm, grid_algorithms, topic_model_algorithm,
                                             topic_model_algorithms)
from curation_dagster.lib.converting import convert_file, output_formats
from curation_dagster.lib.dataset_export import EXPORT_FORMATS, FORMATS, SUFFIX, export_dataset, export_format
from curation_dagster.lib.embedding import (BACKENDS, EMBEDDING_BACKENDS, backend_id, embed_with_backend,
                                            load_embedder, pipeline_backends, register_backend)
from curation_dagster.lib.experiments import cluster, embed, run_grid
from curation_dagster.lib.formats import conversation_format, messages_of, record_of, repairable, sniff
from curation_dagster.lib.importing import (IMPORT_FORMATS, ImportSettings, convert_chunk, detect_format,
                                            import_format, import_formats, read_records)
from curation_dagster.lib.registry import Registry
from curation_dagster_tests.lib.test_dataset_export import publish

# ------------------------------------------------------------------------------------------------
# The name sets of today
# ------------------------------------------------------------------------------------------------


def test_embedding_backend_names():
    assert set(EMBEDDING_BACKENDS) == {"sentence-transformers", "onnx-fp32", "onnx-int8", "model2vec", "tfidf_svd"}
    assert BACKENDS == pipeline_backends() == ("sentence-transformers", "onnx-fp32", "onnx-int8", "model2vec")
    # the experiments grid's old names still parse
    assert EMBEDDING_BACKENDS.resolve("minilm") == "sentence-transformers"
    assert EMBEDDING_BACKENDS.parse("sentence_transformers:/models/e5") == ("sentence-transformers", "/models/e5")
    assert EMBEDDING_BACKENDS.parse("onnx-int8") == ("onnx-int8", None)
    assert backend_id("minilm") == backend_id("sentence-transformers") == "sentence-transformers"
    with pytest.raises(ValueError, match="experiments grid only"):
        backend_id("tfidf_svd")  # fitted on the texts together: never the pipeline's cached vectors


def test_clustering_algorithm_names():
    assert set(CLUSTERING_ALGORITHMS) == {"bertopic", "kmeans", "hdbscan", "sklearn"}
    assert set(topic_model_algorithms()) == {"bertopic", "kmeans"}
    assert set(grid_algorithms()) == {"bertopic", "kmeans", "hdbscan", "sklearn"}
    assert CLUSTERING_ALGORITHMS.parse("sklearn:AgglomerativeClustering") == ("sklearn", "AgglomerativeClustering")


def test_export_format_names():
    assert set(EXPORT_FORMATS) == {"sqlite", "csv", "parquet", "sharegpt", "jsonl"}
    assert FORMATS == ("sqlite", "csv", "parquet", "sharegpt", "jsonl")
    assert SUFFIX == {"sqlite": ".sqlite", "csv": ".csv", "parquet": ".parquet", "sharegpt": ".sharegpt.jsonl"}


def test_import_format_names():
    import curation_dagster.lib.formats as formats
    import curation_dagster.lib.importing as importing

    assert set(import_formats()) == {"jsonl", "csv", "parquet", "chat", "sharegpt", "alpaca"}
    assert importing.FLAT_FORMATS == ("jsonl", "csv", "parquet")
    assert importing.CONVERSATION_FORMATS == formats.CONVERSATION_FORMATS == ("chat", "sharegpt", "alpaca")
    assert importing.FORMATS == ("jsonl", "csv", "parquet", "chat", "sharegpt", "alpaca")
    assert output_formats() == ("jsonl", "csv", "chat", "sharegpt", "alpaca")
    assert [f for f in import_formats() if repairable(f)] == ["chat", "sharegpt"]  # split dumps repaired


def test_registry_basics():
    r = Registry("widget")
    r.add("a", 1, "the first", aliases=("old-a",))
    r.add("b", 2)
    assert r.names() == ("a", "b") and r.resolve("old-a") == "a" and r.entry("old-a") == 1
    assert r.parse("a:x:y") == ("a", "x:y") and r.parse("a:") == ("a", "")
    assert r.literal().__args__ == ("a", "b")
    assert r.help() == "'a': the first; 'b'"
    assert "| `a` | the first |" in r.markdown_table()
    with pytest.raises(ValueError, match="unknown widget 'c'; one of a, b"):
        r.resolve("c")
    with pytest.raises(ValueError):
        r.add("x:y", 3)
    r.remove("a")
    assert r.names() == ("b",) and "old-a" not in r.aliases


# ------------------------------------------------------------------------------------------------
# A throwaway part of each kind, used through the public entry points
# ------------------------------------------------------------------------------------------------


class _LetterEmbedder:
    """Counts of a, b, c, d in each text: a per-text embedder."""

    def get_embedding_dimension(self):
        return 4

    def encode(self, texts, **_):
        return np.array([[t.count(ch) + 0.01 for ch in "abcd"] for t in texts], dtype=np.float32)


@pytest.fixture
def letters_backend():
    calls = []

    @register_backend("letters", "letter counts (test)", cache_id=lambda: "v1")
    def _load(model, device="cpu", **options):
        calls.append((model, options))
        return _LetterEmbedder()

    yield calls
    EMBEDDING_BACKENDS.remove("letters")
    load_embedder.cache_clear()


def test_a_registered_backend_is_usable_by_the_pipeline_and_the_grid(letters_backend):
    from curation_dagster.lib.embedding_cache import cache_key

    assert "letters" in pipeline_backends() and backend_id("letters") == "letters/v1"
    texts = ["aaaa", "bbbb", "aaab", "bbba", "cccc", "dddd"] * 5
    vecs, hits, misses, _ = embed_with_backend(texts, "some-model", ("instruction",), "letters", cache=None)
    assert vecs.shape == (30, 4) and misses == 30 and hits == 0
    assert cache_key("m", ("f",), "t", backend_id("letters")) != cache_key("m", ("f",), "t", "sentence-transformers")
    x, _ = embed("letters:/my/model", texts, seed=1)
    assert x.shape == (30, 4) and letters_backend[-1][0] == "/my/model"
    table = run_grid(texts, None, ["letters"], ["kmeans"], kmeans_k=4)
    assert table.loc[0, "error"] is None and table.loc[0, "clusters"] == 4
    with pytest.raises(ValueError, match="unknown embedding backend 'letters'"):
        EMBEDDING_BACKENDS.remove("letters")
        EMBEDDING_BACKENDS.resolve("letters")


@pytest.fixture
def halves_algorithm():
    @topic_model_algorithm("halves", "the first coordinate's sign (test)")
    def _fit(embeddings, docs, s):
        labels = (embeddings[:, 0] > 0).astype(np.int64)
        return labels, np.ones(len(labels)), ""

    @grid_algorithm("halves", imports=("json",))
    def _grid(vectors, texts, *, seed, k, k_range, arg=None, **kwargs):
        return (vectors[:, 0] > 0).astype(np.int64), "sign of x0"

    yield
    CLUSTERING_ALGORITHMS.remove("halves")


def _two_blobs(n=40):
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.normal([3, 0, 0], 0.1, (n, 3)), rng.normal([-3, 0, 0], 0.1, (n, 3))])
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def test_a_registered_algorithm_is_usable_by_the_topic_model_and_the_grid(halves_algorithm):
    x = _two_blobs()
    res = cluster_embeddings(x, ["doc"] * len(x), ClusterSettings(algorithm="halves"))
    assert sorted(np.bincount(res.cluster_id).tolist()) == [40, 40] and res.fallback == "" and res.splits == ""
    tiny = cluster_embeddings(x[:2], ["doc"] * 2, ClusterSettings(algorithm="halves"))
    assert "no halves fit" in tiny.fallback
    labels, _, params = cluster("halves", x, [""] * len(x))
    assert params == "sign of x0" and len(set(labels.tolist())) == 2
    with pytest.raises(ValueError, match="takes no argument"):
        cluster("halves:x", x, [""] * len(x))


def test_unknown_algorithms_name_the_registered_ones():
    with pytest.raises(ValueError, match="use one of bertopic, kmeans"):
        cluster_embeddings(_two_blobs(), ["d"] * 80, ClusterSettings(algorithm="hdbscan"))  # grid only
    with pytest.raises(ValueError, match="needs an argument"):
        cluster("sklearn", _two_blobs(), [""] * 80)


@pytest.fixture
def tsv_export():
    @export_format("tsv", "tab-separated (test)", suffix=".tsv")
    def _write(tmp, df, manifest, data):
        df.to_csv(tmp, sep="\t", index=False)

    yield
    EXPORT_FORMATS.remove("tsv")


def test_a_registered_export_format_is_usable_by_export_dataset(tmp_path, tsv_export):
    export_dir, _ = publish(tmp_path)
    out = tmp_path / "out"
    out.mkdir()
    summary = export_dataset(export_dir, out, "tsv")
    target = out / "finetuning_dataset.tsv"
    assert summary["files"] == [str(target)] and summary["rows"]["total"] == 3
    assert target.read_text().splitlines()[0].split("\t")[:3] == ["split", "line", "generation_id"]
    EXPORT_FORMATS.remove("tsv")
    with pytest.raises(ValueError, match="unknown format 'tsv'"):
        export_dataset(export_dir, out, "tsv")


@pytest.fixture
def tsv_import():
    @import_format("tsv", "tab-separated records (test)", suffixes=("tsv",))
    def _read(path, s, progress):
        lines = path.read_text().splitlines()
        header = lines[0].split("\t")
        for no, line in enumerate(lines[1:], 2):
            yield no, dict(zip(header, line.split("\t"))), None, line

    yield
    IMPORT_FORMATS.remove("tsv")


def test_a_registered_import_format_is_usable_by_import(tmp_path, tsv_import):
    import curation_dagster.lib.importing as importing

    path = tmp_path / "gens.tsv"
    path.write_text("instruction\toutput\nWrite a thank-you note\tThank you so much for the help today.\n")
    assert detect_format(path) == "tsv" and "tsv" in importing.FLAT_FORMATS
    (chunk,) = read_records(path, "tsv", ImportSettings())
    df, bad = convert_chunk(chunk, ImportSettings(assign_date="2026-11-01"), "tsv")
    assert not bad and df.loc[0, "instruction"] == "Write a thank-you note"


@pytest.fixture
def qa_format():
    @conversation_format("qa", "one question / answer pair (test)")
    class _QA:
        @staticmethod
        def sniff(record):
            return "q" in record and "a" in record

        @staticmethod
        def messages(record):
            return [{"role": "user", "content": record["q"]}, {"role": "assistant", "content": record["a"]}]

        @staticmethod
        def record(msgs, extra):
            return {**extra, "q": msgs[-2]["content"], "a": msgs[-1]["content"]}

    yield
    IMPORT_FORMATS.remove("qa")


def test_a_registered_conversation_format_is_usable_by_import_and_convert(tmp_path, qa_format):
    src = tmp_path / "qa.jsonl"
    src.write_text(json.dumps({"id": "1", "q": "What is 2 + 2?", "a": "Four."}) + "\n")
    assert detect_format(src) == "qa" and sniff({"q": 1, "a": 2}) == "qa" and "qa" in output_formats()
    (chunk,) = read_records(src, "qa", ImportSettings())
    df, bad = convert_chunk(chunk, ImportSettings(assign_date="2026-11-01"), "qa")
    assert not bad and df.loc[0, "output"] == "Four."
    counts = convert_file(src, "qa", tmp_path / "chat.jsonl", "chat", tmp_path / "bad.jsonl")
    assert counts == {"read": 1, "written": 1, "quarantined": 0}
    chat = json.loads((tmp_path / "chat.jsonl").read_text())
    assert chat["messages"][1] == {"role": "assistant", "content": "Four."}
    assert record_of(messages_of(chat, "chat"), "qa", {"id": "1"}) == {"id": "1", "q": "What is 2 + 2?", "a": "Four."}


def test_the_readme_tables_are_the_registries():
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    for registry, header in ((EMBEDDING_BACKENDS, "backend"), (CLUSTERING_ALGORITHMS, "algorithm"),
                             (import_formats(), "import format"), (EXPORT_FORMATS, "export format")):
        table = registry.markdown_table(header=header)
        assert table in readme, f"README.md's {header} table differs from the registry; it should read:\n{table}"
