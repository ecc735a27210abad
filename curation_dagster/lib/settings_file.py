"""A team's settings in one file: `curation.yaml` (or the file named by CURATION_CONFIG).

One section per stage, named like the stage's config, each mapping a field of that config to a value,
plus two top-level settings shared by the filter and the export (one token budget, one check):

    max_tokens_per_example: 4096
    tokenizer: packaged:all-MiniLM-L6-v2
    filter:
      require_identity: false
      known_templates: [general]
    sampling:
      general_share: 1.0

The values become the defaults of the stages' Dagster configs when the code location loads
(defs/settings.py), so the launchpad, the schedules, the sensors and `curation run` all read them;
the run config of a single run still overrides them. Precedence: run config > file > built-in defaults.

Pure: no dagster import. Which fields each section allows is the stage's config class (checked by
`section_values`); which sections exist is listed here, so a typo in a section name is caught too.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Collection, Mapping

#: environment variable naming the settings file ("none": no file; empty: as if unset)
CONFIG_ENV = "CURATION_CONFIG"
#: the file read from the working directory when CURATION_CONFIG is unset
DEFAULT_FILE = "curation.yaml"

#: section -> the config it sets (shown in errors and in `curation init`'s file)
SECTIONS: dict[str, str] = {
    "filter": "FilterConfig (defs/filtering/config.py): the noisy-input rules",
    "embedding": "EmbeddingConfig (defs/embedding/config.py)",
    "dedup": "DedupConfig (defs/dedup/config.py): duplicates across the pool",
    "topic_model": "TopicModelConfig (defs/clustering/config.py): how the topic model is fit",
    "clusters": "ClusterConfig (defs/clustering/config.py): assignment checks and the drift signal",
    "sampling": "SamplingConfig (defs/sampling/config.py)",
    "judge": "JudgeConfig (defs/judge/config.py): the LLM judge (judged_examples)",
    "offline_judge": "OfflineJudgeConfig (defs/judge/config.py): the quality model from usage signals",
    "documents": "DocumentsConfig (defs/documents/config.py): the documents folder and its chunking",
    "doc_qa": "DocQAConfig (defs/documents/config.py): QA pairs from the document chunks (doc_qa_pairs)",
    "variants": "VariantsConfig (defs/variants/config.py): question variants and negatives (example_variants)",
    "export": "ExportConfig (defs/export/config.py)",
    "report": "ReportConfig (defs/report/assets.py)",
    "review": "ReviewConfig (defs/review/assets.py): the review queue",
    "cluster_review": "ClusterQueueConfig (defs/review/assets.py)",
    "review_decisions": "DecisionConfig (defs/review/assets.py)",
    "experiments": "ExperimentConfig (defs/experiments/assets.py): clustering_experiments",
}

#: top-level settings that more than one stage reads; a section may not set them on its own
SHARED: dict[str, str] = {
    "max_tokens_per_example": "the one token budget: the filter rejects longer examples (too_many_tokens) "
                              "and the export's blocking check verifies the same number",
    "tokenizer": "the tokenizer that counts those tokens (filter and export)",
}

#: settings one stage takes from another's section (one setting, one place): (section, field) -> source
INHERITED: dict[tuple[str, str], tuple[str, str]] = {
    ("report", "target_examples"): ("export", "target_examples"),
    # sampling grows the sample to the size the export's progress check projects toward
    ("sampling", "target_examples"): ("export", "target_examples"),
    ("report", "dataset_name"): ("export", "dataset_name"),
    ("report", "general_share"): ("sampling", "general_share"),
    ("report", "general_template"): ("sampling", "general_template"),
    ("review", "min_quality"): ("filter", "min_quality"),
}


class SettingsFileError(ValueError):
    """The settings file cannot be used; the message names the file, the key and what is allowed."""


@dataclass(frozen=True)
class TeamSettings:
    path: Path
    sections: dict[str, dict[str, Any]] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)

    def error(self, where: str, message: str) -> SettingsFileError:
        return SettingsFileError(f"{self.path}: {where}: {message}")


def settings_path(environ: Mapping[str, str] | None = None, cwd: str | Path | None = None) -> Path | None:
    """The settings file in use: CURATION_CONFIG (must exist; "none": no file), else ./curation.yaml
    when present."""
    env = os.environ if environ is None else environ
    named = (env.get(CONFIG_ENV) or "").strip()
    base = Path(cwd) if cwd is not None else Path.cwd()
    if named:
        if named.lower() == "none":
            return None
        path = Path(named).expanduser()
        path = path if path.is_absolute() else base / path
        if not path.is_file():
            raise SettingsFileError(f"{CONFIG_ENV}={named}: no such settings file")
        return path.resolve()
    path = base / DEFAULT_FILE
    return path.resolve() if path.is_file() else None


def load_settings(path: str | Path | None = None) -> TeamSettings | None:
    """Read and check the file's shape (sections, shared keys); None when no file is in use.
    Fields inside a section are checked against the stage's config by `section_values`."""
    p = Path(path).resolve() if path is not None else settings_path()
    if p is None:
        return None
    try:
        st = p.stat()
    except OSError as exc:
        raise SettingsFileError(f"{p}: cannot read the settings file ({exc.strerror or exc})") from exc
    return _load(str(p), st.st_mtime_ns, st.st_size)


@lru_cache(maxsize=8)
def _load(path: str, _mtime_ns: int, _size: int) -> TeamSettings:
    import yaml

    p = Path(path)
    try:
        data = yaml.safe_load(p.read_text(encoding="utf-8"))
    except OSError as exc:
        raise SettingsFileError(f"{p}: cannot read the settings file ({exc.strerror or exc})") from exc
    except UnicodeDecodeError as exc:
        raise SettingsFileError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start})") from exc
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SettingsFileError(f"{p}: not valid YAML{where}: {problem}") from exc
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise SettingsFileError(f"{p}: expected a mapping of sections ({', '.join(SECTIONS)}) and shared "
                                f"settings ({', '.join(SHARED)}), found {_kind(data)}")
    team = TeamSettings(p)
    for key, value in data.items():
        key_s = str(key)
        if key_s in SHARED:
            team.shared[key_s] = value
        elif key_s in SECTIONS:
            if value is None:
                value = {}
            if not isinstance(value, dict):
                raise team.error(key_s, f"expected a mapping of setting: value, found {_kind(value)}")
            team.sections[key_s] = {str(k): v for k, v in value.items()}
        else:
            raise team.error(key_s, f"unknown section {_suggest(key_s, [*SECTIONS, *SHARED])}; allowed sections: "
                                    f"{', '.join(SECTIONS)}; shared settings: {', '.join(SHARED)}")
    return team


def section_values(team: TeamSettings, section: str, allowed: Collection[str]) -> dict[str, Any]:
    """The values the file gives the config of `section`, whose fields are `allowed`: the section's own,
    the shared top-level settings the config has a field for, and settings inherited from another
    section. Unknown fields, and shared or inherited ones set in the wrong place, are errors."""
    if section not in SECTIONS:
        raise KeyError(f"{section!r} is not a settings section; add it to SECTIONS")
    own = team.sections.get(section, {})
    inherited = {f: src for (sec, f), src in INHERITED.items() if sec == section and f in allowed}
    settable = sorted(set(allowed) - set(SHARED) - set(inherited))
    out: dict[str, Any] = {}
    for key, value in own.items():
        if key in SHARED and key in allowed:
            raise team.error(f"{section}.{key}", f"set it at the top level, not under {section}: ({SHARED[key]})")
        if key in inherited:
            src_sec, src_key = inherited[key]
            raise team.error(f"{section}.{key}", f"comes from {src_sec}.{src_key} (one setting, one place): "
                                                 f"set it there")
        if key not in allowed:
            raise team.error(f"{section}.{key}", f"unknown setting {_suggest(key, settable)}; allowed in "
                                                 f"{section}: {', '.join(settable)}")
        out[key] = value
    for key in SHARED:
        if key in allowed and key in team.shared:
            out[key] = team.shared[key]
    for key, (src_sec, src_key) in inherited.items():
        if src_key in team.sections.get(src_sec, {}):
            out[key] = team.sections[src_sec][src_key]
    return out


def _kind(v: Any) -> str:
    return {list: "a list", str: "text", int: "a number", float: "a number", bool: "true/false"}.get(
        type(v), type(v).__name__)


def _suggest(key: str, options: Collection[str]) -> str:
    import difflib

    close = difflib.get_close_matches(key, list(options), n=1)
    return f"{key!r} (did you mean {close[0]!r}?)" if close else repr(key)
