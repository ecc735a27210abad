"""Synthetic sample data: writing-assistant generations with labelled, injected noise.

``generate_sample_data(n_rows, days, start_date, seed)`` returns ``(generations, labels)``; see
:mod:`curation_dagster.sample_data.generator` for the columns and the noise kinds.

The names are re-exported lazily so that ``python -m curation_dagster.sample_data.generator``
(a quick smoke run) does not import the module twice.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

__all__ = [
    "CURRENT_VERSIONS",
    "GENERATION_COLUMNS",
    "LABEL_COLUMNS",
    "NOISE_KINDS",
    "OLD_VERSIONS",
    "TEMPLATES",
    "generate_sample_data",
]

if TYPE_CHECKING:  # pragma: no cover
    from curation_dagster.sample_data.generator import (
        CURRENT_VERSIONS,
        GENERATION_COLUMNS,
        LABEL_COLUMNS,
        NOISE_KINDS,
        OLD_VERSIONS,
        TEMPLATES,
        generate_sample_data,
    )


def __getattr__(name: str):
    if name in __all__:
        from curation_dagster.sample_data import generator

        return getattr(generator, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
