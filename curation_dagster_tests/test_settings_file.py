"""A team's settings in one file: curation.yaml -> every stage's config defaults; `curation init` writes it.

Precedence: run config > file > built-in defaults. The acceptance case imports a ShareGPT file over two
days, lets `curation init` profile it, and runs the whole graph with the file and no run config.
"""

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest
from click.testing import CliRunner

from curation_dagster.cli import main
from curation_dagster.defs.export.config import ExportConfig
from curation_dagster.defs.filtering.config import FilterConfig
from curation_dagster.defs.report.assets import ReportConfig
from curation_dagster.defs.settings import check_settings_file, team_defaults
from curation_dagster.lib.rules import FilterSettings
from curation_dagster.lib.settings_file import SettingsFileError, load_settings, settings_path

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(__file__).parent / "fixtures" / "sharegpt_small.json"

TEAM_FILE = """\
max_tokens_per_example: 2048
filter:
  require_identity: false
  require_generator_version: false
  known_templates: [general]
  min_quality: 0.3
  max_symbol_share: 0.3
export:
  target_examples: 1200
sampling:
  general_share: 1.0
"""


def team(tmp_path, text=TEAM_FILE, name="curation.yaml"):
    path = tmp_path / name
    path.write_text(text)
    return load_settings(path)


def test_file_values_become_the_config_defaults_and_reach_the_rules(tmp_path):
    t = team(tmp_path)
    cfg_cls = team_defaults(FilterConfig, "filter", t)
    assert cfg_cls.__name__ == "FilterConfig"  # the UI shows config by op; the class keeps its name
    cfg = cfg_cls()
    assert (cfg.require_identity, cfg.require_generator_version, cfg.known_templates) == (False, False, ["general"])
    assert cfg.min_quality == 0.3 and cfg.max_symbol_share == 0.3
    assert cfg.min_output_words == FilterConfig().min_output_words  # not in the file: built-in default
    assert cfg_cls.model_fields["require_identity"].description == FilterConfig.model_fields["require_identity"].description
    s = cfg.to_settings()
    assert s.known_templates == ("general",) and s.min_quality == 0.3 and s.max_symbol_share == 0.3
    # one token budget: the top-level value reaches the filter and the export
    assert s.max_tokens_per_example == 2048
    assert team_defaults(ExportConfig, "export", t)().max_tokens_per_example == 2048
    assert team_defaults(ExportConfig, "export", t)().target_examples == 1200
    # the report reads the export's target and the sampling mix (one setting, one place)
    report = team_defaults(ReportConfig, "report", t)()
    assert (report.target_examples, report.general_share) == (1200, 1.0)


def test_no_file_keeps_the_builtin_defaults_and_a_missing_named_file_is_an_error(tmp_path):
    assert settings_path({}, cwd=tmp_path) is None
    assert settings_path({"CURATION_CONFIG": "none"}, cwd=tmp_path) is None
    assert team_defaults(FilterConfig, "filter", None) is FilterConfig
    with pytest.raises(SettingsFileError, match="CURATION_CONFIG=nope.yaml: no such settings file"):
        settings_path({"CURATION_CONFIG": "nope.yaml"}, cwd=tmp_path)
    (tmp_path / "curation.yaml").write_text("filter: {}\n")
    assert settings_path({}, cwd=tmp_path) == (tmp_path / "curation.yaml").resolve()
    assert settings_path({"CURATION_CONFIG": ""}, cwd=tmp_path) == (tmp_path / "curation.yaml").resolve()
    assert settings_path({"CURATION_CONFIG": "none"}, cwd=tmp_path) is None


@pytest.mark.parametrize("text, message", [
    ("filtr:\n  min_quality: 0.3\n",
     r"curation.yaml: filtr: unknown section 'filtr' \(did you mean 'filter'\?\); allowed sections: filter, embedding"),
    ("filter:\n  min_qualty: 0.3\n",
     r"curation.yaml: filter.min_qualty: unknown setting 'min_qualty' \(did you mean 'min_quality'\?\); allowed in "
     r"filter: .*max_instruction_chars.*min_quality"),
    ("filter:\n  min_quality: high\n", r"filter.min_quality: 'high' is not valid for this setting \(float\)"),
    ("filter:\n  target_languages: [xx]\n", r"filter: .*unknown language code 'xx'"),
    ("filter:\n  max_tokens_per_example: 100\n", r"filter.max_tokens_per_example: set it at the top level"),
    ("report:\n  target_examples: 10\n", r"report.target_examples: comes from export.target_examples"),
    ("export:\n  validation_fraction: 0.5\n  test_fraction: 0.5\n", r"export: .*must be below 1"),
    ("filter: [1, 2\n", r"curation.yaml: not valid YAML at line 2"),
    ("- filter\n", r"curation.yaml: expected a mapping of sections"),
])
def test_a_bad_file_is_a_clear_error_naming_the_file_and_the_key(tmp_path, text, message):
    with pytest.raises(SettingsFileError, match=message):
        check_settings_file(team(tmp_path, text).path)


def test_run_config_overrides_the_file(tmp_path):
    cfg_cls = team_defaults(FilterConfig, "filter", team(tmp_path))

    @dg.op
    def probe(config: cfg_cls) -> tuple:  # type: ignore[valid-type]
        return config.min_quality, config.known_templates, config.max_tokens_per_example

    @dg.job
    def job():
        probe()

    assert job.execute_in_process().output_for_node("probe") == (0.3, ["general"], 2048)
    override = {"ops": {"probe": {"config": {"min_quality": 0.6, "max_tokens_per_example": 512}}}}
    assert job.execute_in_process(run_config=override).output_for_node("probe") == (0.6, ["general"], 512)


def test_every_filter_setting_is_config_and_reaches_the_rules():
    """FilterSettings is the filter's one model: each of its fields is a FilterConfig field (so the
    launchpad and the settings file can set it) and to_settings carries a changed value through."""
    nested = {"quality_weights", "decontamination"}
    fields = [f for f in dataclasses.fields(FilterSettings) if f.name not in nested]
    assert {f.name for f in fields} <= set(FilterConfig.model_fields)
    for name in ("max_instruction_chars", "max_input_message_chars", "min_language_share", "max_symbol_share",
                 "max_top_token_share", "max_tokens_per_example", "tokenizer"):
        assert FilterConfig.model_fields[name].description, name
    assert FilterConfig().to_settings() == FilterSettings(), "config defaults are the rules' defaults"
    changed = {}
    for f in fields:
        v = getattr(FilterSettings(), f.name)
        changed[f.name] = (not v if isinstance(v, bool) else v + 1 if isinstance(v, (int, float))
                           else v if not isinstance(v, str) or f.name == "pii_action" else v + "x")
    changed["tokenizer"] = "other-tokenizer"
    s = FilterConfig(**{k: list(v) if isinstance(v, tuple) else v for k, v in changed.items()},
                     decontamination_min_words=5, quality_weight_sent=0.5).to_settings()
    for f in fields:
        assert getattr(s, f.name) == changed[f.name], f.name
    assert s.decontamination.min_words == 5 and s.quality_weights.sent == 0.5


def test_the_code_location_loads_the_file_named_by_curation_config(tmp_path):
    """In a fresh process, as `dagster dev` loads it: the job's config schema (the launchpad's
    defaults, what schedules run with) carries the file's values; a typo stops the load, clearly."""
    (tmp_path / "team.yaml").write_text(TEAM_FILE)
    probe = ("from curation_dagster.definitions import defs\n"
             "ops = defs().resolve_job_def('daily_curation_job').run_config_schema.config_type.fields['ops']\n"
             "cfg = ops.config_type.fields['filter_generations'].config_type.fields['config'].config_type.fields\n"
             "print(cfg['min_quality'].default_value, cfg['max_tokens_per_example'].default_value,"
             " cfg['known_templates'].default_value)\n")
    env = {**os.environ, "CURATION_CONFIG": str(tmp_path / "team.yaml"), "CURATION_DATA_DIR": str(tmp_path / "d")}
    out = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split("\n")[-2] == "0.3 2048 ['general']"
    (tmp_path / "team.yaml").write_text("sampling:\n  n_per_clustr: 5\n")
    out = subprocess.run([sys.executable, "-c", probe], env=env, cwd=tmp_path, capture_output=True, text=True,
                         timeout=300)
    assert out.returncode != 0
    assert "team.yaml: sampling.n_per_clustr: unknown setting 'n_per_clustr' (did you mean 'n_per_cluster'?)" in out.stderr


def test_init_profiles_the_source_and_refuses_to_overwrite(tmp_path, sample_small, monkeypatch):
    from curation_dagster.lib.warehouse import write_generations

    gens, labels = sample_small
    db = tmp_path / "wh.duckdb"
    write_generations(db, gens, labels)
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("CURATION_CONFIG", raising=False)
    res = CliRunner().invoke(main, ["init", "--warehouse", str(db)], catch_exceptions=False)
    assert res.exit_code == 0, res.output
    text = (tmp_path / "curation.yaml").read_text()
    n = len(gens)
    assert f"require_identity: true  # " in text and f"of {n:,} rows have identity settings" in text
    assert "require_generator_version: true" in text and "versions found: " in text
    assert "known_templates: [" in text and "templates found: general (" in text
    assert "curation run --config curation.yaml --from 2026-11-01 --to 2026-11-03" in text
    assert "target_languages: [en]  # languages of 300 sampled outputs: en (" in text
    check_settings_file(tmp_path / "curation.yaml")  # every value is one its stage accepts
    res = CliRunner().invoke(main, ["init", "--warehouse", str(db)])
    assert res.exit_code != 0 and "curation.yaml exists: pass --force to overwrite it" in res.output
    assert CliRunner().invoke(main, ["init", "--warehouse", str(db), "--force"]).exit_code == 0


@pytest.mark.slow
def test_sharegpt_import_init_and_run_export_a_dataset_with_no_run_config(tmp_path):
    """The first day of a team with a ShareGPT dump: import it (two days), `curation init`, `curation
    run --config curation.yaml`: a non-empty train.jsonl, no run config anywhere."""
    work, home, data = tmp_path / "team", tmp_path / "home", tmp_path / "data"
    work.mkdir()
    home.mkdir()
    (home / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
    convs = json.loads(FIXTURE.read_text())
    assert len(convs) >= 40
    half = len(convs) // 2
    (work / "day1.json").write_text(json.dumps(convs[:half], ensure_ascii=False))
    (work / "day2.json").write_text(json.dumps(convs[half:], ensure_ascii=False))
    env = {k: v for k, v in os.environ.items() if k not in ("CURATION_CONFIG", "CURATION_START_DATE",
                                                            "CURATION_WAREHOUSE_PATH", "CURATION_STORAGE_PATH",
                                                            "CURATION_EXPORT_DIR", "DAGSTER_DEPLOYMENT")}
    env.update({"DAGSTER_HOME": str(home), "CURATION_DATA_DIR": str(data)})

    def cli(*args, timeout=900):
        out = subprocess.run([sys.executable, "-m", "curation_dagster.cli", *args], env=env, cwd=work,
                             capture_output=True, text=True, timeout=timeout)
        assert out.returncode == 0, f"curation {' '.join(args)} failed:\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}"
        return out.stdout

    cli("import", "day1.json", "--assign-date", "2026-10-01")
    cli("import", "day2.json", "--assign-date", "2026-10-02")
    init_out = cli("init")
    text = (work / "curation.yaml").read_text()
    assert text in init_out
    assert "require_identity: false  # 0 of 42 rows have identity settings" in text
    assert "require_generator_version: false  # 0 of 42 rows have a generator_version" in text
    assert "known_templates: [general]  # templates found: general (42)" in text
    assert "curation run --config curation.yaml --from 2026-10-01 --to 2026-10-02" in text
    run_out = cli("run", "--config", "curation.yaml", "--from", "2026-10-01", "--to", "2026-10-02")
    assert f"Settings: {(work / 'curation.yaml').resolve()}" in run_out
    export = data / "exports" / "finetuning_dataset"
    lines = (export / "train.jsonl").read_text().splitlines()
    assert lines, run_out[-3000:]
    assert all(json.loads(line)["messages"][-1]["role"] == "assistant" for line in lines)
    manifest = json.loads((export / "manifest.json").read_text())
    assert manifest["config"]["max_tokens_per_example"] == 4096
