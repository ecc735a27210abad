"""Config Literals, CLI choices and help texts take their names from the registries in lib/, so a
part registered there shows up in them without another edit."""

import typing

import pytest
from click.testing import CliRunner

from curation_dagster.cli import main
from curation_dagster.defs.clustering.config import TopicModelConfig
from curation_dagster.defs.embedding.config import EmbeddingConfig
from curation_dagster.defs.experiments.assets import ExperimentConfig
from curation_dagster.lib.clustering import CLUSTERING_ALGORITHMS, grid_algorithms, topic_model_algorithms
from curation_dagster.lib.dataset_export import EXPORT_FORMATS, export_format
from curation_dagster.lib.embedding import EMBEDDING_BACKENDS, pipeline_backends
from curation_dagster.lib.importing import IMPORT_FORMATS, import_format
from curation_dagster_tests.lib.test_dataset_export import publish


def test_config_literals_are_the_registered_names():
    assert typing.get_args(EmbeddingConfig.model_fields["backend"].annotation) == pipeline_backends()
    assert typing.get_args(TopicModelConfig.model_fields["algorithm"].annotation) == topic_model_algorithms()
    assert EmbeddingConfig(backend="onnx-int8").backend == "onnx-int8"
    assert TopicModelConfig(algorithm="kmeans").to_settings().algorithm == "kmeans"
    with pytest.raises(Exception):
        EmbeddingConfig(backend="tfidf_svd")  # grid only
    with pytest.raises(Exception):
        TopicModelConfig(algorithm="hdbscan")  # grid only


def test_experiment_config_help_names_every_part():
    backends = ExperimentConfig.model_fields["backends"].description
    algorithms = ExperimentConfig.model_fields["algorithms"].description
    assert all(f"'{n}'" in backends for n in EMBEDDING_BACKENDS) and "'minilm'" in backends
    assert all(f"'{n}'" in algorithms for n in grid_algorithms())
    assert ExperimentConfig().backends == ["minilm", "model2vec", "tfidf_svd"]
    assert set(CLUSTERING_ALGORITHMS) >= set(ExperimentConfig().algorithms)


def test_cli_choices_are_the_registered_names():
    runner = CliRunner()
    export_help = runner.invoke(main, ["export", "--help"]).output
    assert "[sqlite|csv|parquet|sharegpt|jsonl]" in export_help
    assert all(EXPORT_FORMATS.descriptions[n][:20] in " ".join(export_help.split()) for n in EXPORT_FORMATS)
    assert "[auto|jsonl|csv|parquet|chat|sharegpt|alpaca]" in runner.invoke(main, ["import", "--help"]).output
    convert_help = runner.invoke(main, ["convert", "--help"]).output
    assert "[auto|jsonl|csv|parquet|chat|sharegpt|alpaca]" in convert_help and "[jsonl|csv|chat|sharegpt|alpaca]" in convert_help


@pytest.fixture
def tsv_formats():
    @export_format("tsv", "tab-separated (test)", suffix=".tsv")
    def _write(tmp, df, manifest, data):
        df.to_csv(tmp, sep="\t", index=False)

    @import_format("tsv", "tab-separated (test)", suffixes=("tsv",))
    def _read(path, s, progress):
        yield from ()

    yield
    EXPORT_FORMATS.remove("tsv")
    IMPORT_FORMATS.remove("tsv")


def test_a_registered_format_is_a_cli_choice(tmp_path, monkeypatch, tsv_formats):
    monkeypatch.chdir(tmp_path)
    export_dir, _ = publish(tmp_path)
    runner = CliRunner()
    assert "tab-separated (test)" in runner.invoke(main, ["export", "--help"]).output
    assert "|tsv]" in runner.invoke(main, ["import", "--help"]).output
    res = runner.invoke(main, ["export", str(tmp_path / "out.tsv"), "--format", "tsv", "--export-dir", str(export_dir)])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "out.tsv").read_text().startswith("split\tline\t")
    res = runner.invoke(main, ["export", str(tmp_path / "x"), "--format", "xlsx", "--export-dir", str(export_dir)])
    assert res.exit_code == 2 and "'xlsx' is not one of" in res.output
