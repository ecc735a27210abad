"""Profile the source table and write the starter settings file it needs (`curation init`).

`profile_source` runs a few aggregate queries (row count, days, templates, identity, generator
versions, usage signals) and reads a seeded sample of rows (word counts, token counts, languages of
the outputs); `starter_yaml` turns that into a curation.yaml whose every value says why it was chosen.
Pure: the caller passes the warehouse's query function, so DuckDB and Snowflake profile the same way.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Callable

import pandas as pd

#: rows read for word counts; the first TOKEN_SAMPLE of them are tokenized (~15 ms each on long real
#: conversations) and the outputs of the first LANGUAGE_SAMPLE get a language
SAMPLE_ROWS = 2_000
TOKEN_SAMPLE = 500
LANGUAGE_SAMPLE = 300
#: a language at least this share of the sampled outputs becomes a target language
TARGET_LANGUAGE_SHARE = 0.10
#: below this many source rows HDBSCAN finds too few clusters (measured: 2 clusters in 2,380 kept real
#: rows, 98 in 10,184), so the starter file fits KMeans
KMEANS_BELOW_ROWS = 10_000
#: a setting the data would trip on this share of rows is moved to where the data is
LOOSEN_SHARE = {"min_instruction_words": 0.20, "min_output_words": 0.30}

Query = Callable[[str, list], pd.DataFrame]


@dataclass
class SourceProfile:
    table: str
    rows: int
    day_counts: dict[str, int]
    templates: dict[str, int]
    versions: dict[str, int]  # generator_version -> rows (null versions not counted)
    identity_rows: int  # rows whose identity is not blank / '{}'
    signal_rows: dict[str, int]  # copied, sent, edit_ratio, rating -> rows with a value; any -> any of them
    sample: pd.DataFrame = field(repr=False)  # instruction, input_message, identity, template_id, output
    languages: dict[str, int] = field(default_factory=dict)  # language -> sampled outputs; "undecided"
    identity_named: int = 0  # sampled rows whose identity has a non-empty name
    longest_output: int = 0  # characters of the longest output in the table
    long_outputs: int = 0  # outputs longer than the filter's max_output_chars
    tokens: list[int] = field(default_factory=list)  # token count of each sampled example


def profile_source(query: Query, table: str, col: Callable[[str], str], tokenizer: str | None = None,
                   sample_rows: int = SAMPLE_ROWS, language_sample: int = LANGUAGE_SAMPLE,
                   token_sample: int = TOKEN_SAMPLE) -> SourceProfile:
    """`query(sql, params)` runs SQL on the warehouse; `table` is the quoted table reference and
    `col(contract_column)` the quoted source column serving a contract column."""
    from curation_dagster.lib.rules import FilterSettings
    from curation_dagster.lib.tokens import DEFAULT_TOKENIZER

    c = {name: col(name) for name in ("generation_id", "created_at", "template_id", "generator_version",
                                       "instruction", "identity", "input_message", "output", "copied", "sent",
                                       "edit_ratio", "rating")}

    def rows_of(sql: str) -> pd.DataFrame:
        df = query(sql, [])
        df.columns = [str(x).lower() for x in df.columns]
        return df

    ident = c["identity"]
    agg = rows_of(
        f"SELECT count(*) AS n, "
        f"sum(CASE WHEN {ident} IS NOT NULL AND trim({ident}) NOT IN ('', '{{}}', 'null') THEN 1 ELSE 0 END) AS ident, "
        f"count({c['copied']}) AS copied, count({c['sent']}) AS sent, count({c['edit_ratio']}) AS edit_ratio, "
        f"count({c['rating']}) AS rating, max(length({c['output']})) AS longest, "
        f"sum(CASE WHEN length({c['output']}) > {int(FilterSettings().max_output_chars)} THEN 1 ELSE 0 END) AS long_outputs, "
        f"sum(CASE WHEN {c['copied']} IS NOT NULL OR {c['sent']} IS NOT NULL OR {c['edit_ratio']} IS NOT NULL "
        f"OR {c['rating']} IS NOT NULL THEN 1 ELSE 0 END) AS any_signal FROM {table}").iloc[0]
    n = int(agg["n"] or 0)
    days = rows_of(f"SELECT CAST(CAST({c['created_at']} AS DATE) AS VARCHAR) AS d, count(*) AS n FROM {table} "
                   f"WHERE {c['created_at']} IS NOT NULL GROUP BY 1 ORDER BY 1")
    templates = rows_of(f"SELECT {c['template_id']} AS t, count(*) AS n FROM {table} GROUP BY 1 ORDER BY 2 DESC, 1")
    versions = rows_of(f"SELECT {c['generator_version']} AS v, count(*) AS n FROM {table} "
                       f"WHERE {c['generator_version']} IS NOT NULL GROUP BY 1 ORDER BY 1")
    # a seeded sample: the same rows every time, whatever order the table was written in
    sample = rows_of(
        f"SELECT {c['instruction']} AS instruction, {c['input_message']} AS input_message, {ident} AS identity, "
        f"{c['template_id']} AS template_id, {c['output']} AS output FROM {table} "
        f"ORDER BY md5(CAST({c['generation_id']} AS VARCHAR)), {c['generation_id']} LIMIT {int(sample_rows)}")
    prof = SourceProfile(
        table=table, rows=n,
        day_counts={str(d)[:10]: int(k) for d, k in zip(days["d"], days["n"])},
        templates={("(none)" if t is None or t != t else str(t)): int(k) for t, k in zip(templates["t"], templates["n"])},
        versions={str(v): int(k) for v, k in zip(versions["v"], versions["n"])},
        identity_rows=int(agg["ident"] or 0),
        longest_output=int(agg["longest"] or 0), long_outputs=int(agg["long_outputs"] or 0),
        signal_rows={k: int(agg[k] or 0) for k in ("copied", "sent", "edit_ratio", "rating", "any_signal")},
        sample=sample,
    )
    prof.identity_named = sum(_has_name(v) for v in sample["identity"])
    prof.languages = sample_languages(sample["output"].head(language_sample))
    prof.tokens = sample_tokens(sample.head(token_sample), tokenizer or DEFAULT_TOKENIZER)
    return prof


def _has_name(identity) -> bool:
    if not isinstance(identity, str):
        return False
    try:
        parsed = json.loads(identity)
    except ValueError:
        return False
    return isinstance(parsed, dict) and isinstance(parsed.get("name"), str) and bool(parsed["name"].strip())


def sample_languages(outputs) -> dict[str, int]:
    """Language of each output's prose (code removed, as the language rule reads it)."""
    from curation_dagster.lib.language import detect_language
    from curation_dagster.lib.markdown import parse_reply

    counts: dict[str, int] = {}
    for text in outputs:
        guess = detect_language(parse_reply(text).prose if isinstance(text, str) else None)
        lang = guess.language if guess else "undecided"
        counts[lang] = counts.get(lang, 0) + 1
    return dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))


def sample_tokens(sample: pd.DataFrame, tokenizer: str) -> list[int]:
    """Tokens of each sampled row's exported example (every message), as too_many_tokens counts them."""
    from curation_dagster.lib.export import to_chat_record
    from curation_dagster.lib.tokens import count_tokens, example_text

    texts = []
    for row in sample.to_dict("records"):
        row = {k: (None if v is None or v != v else v) for k, v in row.items()}
        texts.append(example_text(to_chat_record(row)["messages"]))
    return count_tokens(texts, tokenizer) if texts else []


# ---------------------------------------------------------------------------------------------- the file


def _yaml(value) -> str:
    import yaml

    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10_000).strip()
    return text[:-3].strip() if text.endswith("...") else text


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _n(k: int) -> str:
    return f"{k:,}"


def _pct(k: int, n: int) -> str:
    return f"{k / n:.1%}" if n else "0%"


def _listing(counts: dict[str, int], limit: int = 8) -> str:
    items = [f"{k} ({_n(v)})" for k, v in list(counts.items())[:limit]]
    more = len(counts) - limit
    return ", ".join(items) + (f", and {more} more" if more > 0 else "")


def _quantile(values: list[int], q: float) -> int:
    return int(pd.Series(values).quantile(q, interpolation="lower")) if values else 0


def starter_settings(prof: SourceProfile, today: str | None = None) -> list[tuple[str | None, str, object, str]]:
    """The settings the data needs: (section or None for top level, key, value, why)."""
    from curation_dagster.lib.rules import DEFAULT_TEMPLATES, FilterSettings, parse_version
    from curation_dagster.lib.text import words

    d = FilterSettings()
    n = prof.rows
    out: list[tuple[str | None, str, object, str]] = []

    # --- the token budget (top level: the filter and the export share it)
    over = sum(t > d.max_tokens_per_example for t in prof.tokens)
    out.append((None, "max_tokens_per_example", d.max_tokens_per_example,
                f"{_n(over)} of {_n(len(prof.tokens))} sampled examples ({_pct(over, len(prof.tokens))}) are longer; "
                f"median {_n(_quantile(prof.tokens, 0.5))}, p99 {_n(_quantile(prof.tokens, 0.99))} tokens"))
    out.append((None, "tokenizer", d.tokenizer, "counts the budget (set your model's tokenizer folder for exact counts)"))

    # --- identity
    named = f", {_n(prof.identity_named)} of {_n(len(prof.sample))} sampled with a name" if prof.identity_rows else ""
    require_identity = n > 0 and prof.identity_rows / n >= 0.5
    out.append(("filter", "require_identity", require_identity,
                f"{_n(prof.identity_rows)} of {_n(n)} rows have identity settings{named}"))

    # --- generator versions
    with_version = sum(prof.versions.values())
    require_version = n > 0 and with_version / n >= 0.5
    out.append(("filter", "require_generator_version", require_version,
                f"{_n(with_version)} of {_n(n)} rows have a generator_version"))
    if prof.versions:
        parsed = {}
        for v, k in prof.versions.items():
            try:
                parsed[v] = (parse_version(v), k)
            except ValueError:
                pass
        cut = d.min_generator_version
        dropped = sum(k for p, k in parsed.values() if p < parse_version(cut))
        why = f"versions found: {_listing(dict(sorted(prof.versions.items())), 10)}"
        if parsed and dropped > with_version / 2:
            cut = min(parsed, key=lambda v: parsed[v][0])
            why += f"; the built-in cut-off {d.min_generator_version} would drop {_n(dropped)} rows, so all are kept"
        else:
            why += f"; older than {cut}: {_n(dropped)} rows (dropped as old_generator_version)"
        out.append(("filter", "min_generator_version", cut, why))

    # --- templates
    catalog = set(DEFAULT_TEMPLATES)
    known = [t for t, k in prof.templates.items() if t != "(none)" and (t in catalog or (n and k / n >= 0.01))]
    left_out = {t: k for t, k in prof.templates.items() if t not in known}
    why = f"templates found: {_listing(prof.templates)}"
    if left_out:
        why += f"; left out (rare, not in the built-in catalog): {_listing(left_out, 5)}"
    out.append(("filter", "known_templates", known or [], why if known else why + "; [] accepts any template"))

    # --- words
    instr_words = [len(words(v)) if isinstance(v, str) else 0 for v in prof.sample["instruction"]]
    out_words = [len(words(v)) if isinstance(v, str) else 0 for v in prof.sample["output"]]
    for key, counts, default, what in (("min_instruction_words", instr_words, d.min_instruction_words, "instructions"),
                                        ("min_output_words", out_words, d.min_output_words, "outputs")):
        short = sum(w < default for w in counts)
        value, why = default, f"{_pct(short, len(counts))} of sampled {what} have fewer than {default} words"
        if counts and short / len(counts) > LOOSEN_SHARE[key]:
            value = max(1, _quantile(counts, 0.10))
            why += f" (over {LOOSEN_SHARE[key]:.0%}): lowered to the 10th percentile"
        out.append(("filter", key, value, why))
    out.append(("filter", "max_output_chars", d.max_output_chars,
                f"a guard only (the token budget decides); longest output: {_n(prof.longest_output)} characters, "
                f"{_n(prof.long_outputs)} longer than {_n(d.max_output_chars)}"))

    # --- languages
    decided = {k: v for k, v in prof.languages.items() if k != "undecided"}
    total = sum(decided.values())
    targets = [k for k, v in decided.items() if total and v / total >= TARGET_LANGUAGE_SHARE] or list(d.target_languages)
    langs = sum(prof.languages.values())
    out.append(("filter", "target_languages", targets,
                f"languages of {_n(langs)} sampled outputs: {_listing(prof.languages)}"
                + ("; add a language to keep it" if decided else "")))

    # --- usage signals
    s = prof.signal_rows
    signals = ", ".join(f"{k} {_n(s[k])}" for k in ("copied", "sent", "edit_ratio", "rating"))
    why = f"{_n(s['any_signal'])} of {_n(n)} rows carry a usage signal ({signals})"
    if s["any_signal"] < n:
        why += f"; rows with none score neutral_quality_score {d.quality_weights.neutral_score}"
    out.append(("filter", "min_quality", d.min_quality, why))

    # --- the category mix
    general = prof.templates.get("general", 0)
    share = general / n if n else 0.0
    if n and general in (0, n):
        out.append(("sampling", "general_share", 1.0 if general else 0.0,
                    f"{'every' if general else 'no'} row uses the general template: a mix target the data cannot meet "
                    f"would trim the sample"))
    else:
        out.append(("sampling", "general_share", 0.5, f"{_pct(general, n)} of rows use the general template"))

    # --- clustering for the pool's size
    if n < KMEANS_BELOW_ROWS:
        k = max(2, min(50, round(n / 150)))
        out.append(("topic_model", "algorithm", "kmeans",
                    f"{_n(n)} rows: HDBSCAN finds few clusters under ~{_n(KMEANS_BELOW_ROWS)} (2 in 2,380 real rows)"))
        out.append(("topic_model", "kmeans_k", k, "about one cluster per 150 source rows (2..50)"))
    return out


def starter_yaml(prof: SourceProfile, source: str, today: str | None = None) -> str:
    """The text of the starter curation.yaml: the settings `starter_settings` chose, each commented."""
    from curation_dagster.lib.importing import suggested_run_range

    today = today or datetime.now(timezone.utc).strftime("%Y-%m-%d")
    span = suggested_run_range(prof.day_counts, today)
    lines = [
        "# curation.yaml: this team's settings, read when the code location loads: the Dagster launchpad's",
        "# defaults, the schedules and sensors, and `curation run` use them; one run's run config overrides",
        "# them (run config > this file > built-in defaults). Any field of a stage's config may go in its",
        "# section (filter, embedding, dedup, topic_model, clusters, sampling, export, report, review,",
        "# cluster_review, review_decisions, experiments); an unknown one stops the code location with an error.",
        f"# Written by `curation init` on {today} from {source}:",
        f"# {_n(prof.rows)} rows" + (f", {span.days} day(s) {span.first} .. {span.last}." if span.first else "."),
    ]
    if span.first:
        lines += [
            f"# Partitions start at CURATION_START_DATE: set CURATION_START_DATE={span.first} for the UI and the",
            f"# schedules, and materialize the history with",
            f"#   curation run --config curation.yaml --from {span.first} --to {span.last}",
        ]
    if span.rows_outside:
        lines.append(f"# {_n(span.rows_outside)} row(s) are dated outside {span.lo} .. {span.hi} and left out of that range.")
    lines.append("")
    settings = starter_settings(prof, today)
    sections: dict[str | None, list] = {}
    for section, key, value, why in settings:
        sections.setdefault(section, []).append((key, value, why))
    for key, value, why in sections.pop(None, []):
        lines.append(f"{key}: {_yaml(value)}  # {_one_line(why)}")
    for section, items in sections.items():
        lines += ["", f"{section}:"]
        for key, value, why in items:
            lines.append(f"  {key}: {_yaml(value)}  # {_one_line(why)}")
    return "\n".join(lines) + "\n"
