"""The team's settings file (lib/settings_file.py) as the defaults of the stages' Dagster configs.

Each stage's config module ends with `XConfig = team_defaults(XConfig, "section")`: when the code
location loads, the class is replaced by a subclass of the same name whose field defaults are the
file's values. So the launchpad shows the team's values, schedules and sensors (which send no config)
use them, and run config still overrides them per run. Without a file the class is returned as is.
"""

from __future__ import annotations

import copy
from typing import Any, Callable, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError, create_model

from curation_dagster.lib.settings_file import SettingsFileError, TeamSettings, load_settings, section_values

C = TypeVar("C", bound=BaseModel)

#: every (config class as written, section, check) that `team_defaults` was called with
_REGISTERED: dict[tuple[str, str], tuple[type, str, Callable | None]] = {}

#: the modules whose config classes call `team_defaults`, imported by `check_settings_file`
CONFIG_MODULES = (
    "curation_dagster.defs.filtering.config", "curation_dagster.defs.embedding.config",
    "curation_dagster.defs.dedup.config", "curation_dagster.defs.clustering.config",
    "curation_dagster.defs.sampling.config", "curation_dagster.defs.judge.config", "curation_dagster.defs.export.config",
    "curation_dagster.defs.report.assets", "curation_dagster.defs.review.assets",
    "curation_dagster.defs.experiments.assets", "curation_dagster.defs.documents.config",
    "curation_dagster.defs.variants.config",
)


#: the settings file the imported config classes took their defaults from ("no file": None); unset
#: until the first stage's config module is imported
_LOADED_FROM: list = []


def loaded_settings_path():
    """(True, path or None) once a stage's config module has taken its defaults; (False, None) before."""
    return (True, _LOADED_FROM[0]) if _LOADED_FROM else (False, None)


def team_defaults(cls: type[C], section: str, team: TeamSettings | None | bool = True,
                  check: Callable[[Any], Any] | None = None) -> type[C]:
    """`cls` with the defaults the settings file gives `section` (`team`: the file in use when True,
    or an explicit TeamSettings / None for no file). Each value is validated against its field's type,
    then one instance is built (model validators run) and passed to `check` (e.g. `to_settings`), so a
    bad value is a SettingsFileError naming the file and the key when the code location loads, not a
    failure deep inside a run."""
    _REGISTERED.setdefault((cls.__module__, cls.__qualname__), (cls, section, check))
    if team is True:
        team = load_settings()
        if not _LOADED_FROM:
            _LOADED_FROM.append(team.path if team else None)
    if not team:
        return cls
    values = section_values(team, section, cls.model_fields)
    if not values:
        return cls
    fields = {}
    for name, value in values.items():
        info = cls.model_fields[name]
        try:
            value = TypeAdapter(info.annotation).validate_python(value)
        except ValidationError as exc:
            err = exc.errors()[0]
            raise team.error(f"{section}.{name}", f"{value!r} is not valid for this setting "
                                                  f"({_type_name(info.annotation)}): {err['msg']}") from None
        new = copy.copy(info)
        new.default, new.default_factory = value, None
        fields[name] = (info.annotation, new)
    derived = create_model(cls.__name__, __base__=cls, __module__=cls.__module__, __doc__=cls.__doc__, **fields)
    derived.__qualname__ = cls.__qualname__
    try:
        instance = derived()
        if check is not None:
            check(instance)
    except (ValidationError, ValueError, TypeError) as exc:
        if isinstance(exc, SettingsFileError):
            raise
        msg = exc.errors()[0]["msg"] if isinstance(exc, ValidationError) else str(exc)
        raise team.error(section, f"these settings do not work together: {msg}") from None
    return derived


def check_settings_file(path=None) -> TeamSettings | None:
    """Read the file (`path`, else the one in use) and build every stage's config from it: raises
    SettingsFileError on the first problem (unknown section or field, wrong type, values a stage
    refuses). For the CLI, before a run."""
    import importlib

    team = load_settings(path)
    if team is None:
        return None
    for mod in CONFIG_MODULES:
        importlib.import_module(mod)  # registers each config class
    for cls, section, check in list(_REGISTERED.values()):
        team_defaults(cls, section, team, check)
    return team


def _type_name(annotation) -> str:
    name = getattr(annotation, "__name__", None)
    return name if name and not getattr(annotation, "__args__", None) else str(annotation).replace("typing.", "")
