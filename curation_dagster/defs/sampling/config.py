import dagster as dg
from pydantic import Field

from curation_dagster.defs.settings import team_defaults
from curation_dagster.lib.sampling import BALANCES, SampleSettings
from curation_dagster.lib.selection import WITHIN_CELL_ORDERS


class SamplingConfig(dg.Config):
    mode: str = Field("target", description=(
        "'target': the sample grows with the pool to `target_examples`, its quota water-filled across the "
        "named topics and inside each across its sampling cells (`balance`), picks inside a cell diverse and favouring quality (`within_cell`), a repeated "
        "prompt counted once. "
        "'per_cluster': the seed's recipe, at most `n_per_cluster` per cluster (caps the dataset at "
        "clusters x N)."))
    target_examples: int = Field(50_000, description=(
        "Size the dataset grows to (set it as `export.target_examples` in curation.yaml: the export's "
        "progress check projects toward the same number)."))
    max_pool_share: float = Field(0.2, description=(
        "target mode: the sample adds no rows beyond this share of the pool, so there is always a choice "
        "to make; until the pool is target_examples / max_pool_share rows the dataset grows with it. Rows "
        "already shipped stay while they are in the pool, even when it shrinks below that. On real "
        "conversations the sample beat random samples of the pool at 0.2 under both topic models tried, "
        "and not always at 0.3 (README, 'How much of the pool can ship?'): raise it to trade diversity for size."))
    balance: str = Field("topics_sqrt", description=(
        "target mode: how the quota is spread (one of " + ", ".join(BALANCES) + "). 'topics_sqrt': across "
        "the named topics first, each giving min(its rows, level x sqrt(its rows)), then across each topic's "
        "cells; 'topics': every topic min(its rows, level); 'cells': across every sampling cell at once, "
        "which gives a big topic a share in proportion to its size, as a random sample would."))
    quality_weight: float = Field(1.0, description=(
        "target mode: how strongly picks inside a cell favour the usage-based quality score "
        "(key -ln(u) / quality^weight; 0 = uniform)."))
    max_per_prompt: int = Field(1, description=(
        "target mode: at most this many examples share one normalised prompt (instruction + input message); "
        "real pools hold the same question asked dozens of times. 0 = no cap."))
    within_cell: str = Field("diverse", description=(
        "target mode: the order a cell gives its rows (one of " + ", ".join(WITHIN_CELL_ORDERS) + "). 'diverse': "
        "the cell's most typical example first, then each next one least like those already picked, on the "
        "words of the whole example (hashed character n-grams), scaled by quality; 'random': the "
        "quality-weighted random key alone."))
    keep_shipped: str = Field("finetuning_dataset", description=(
        "target mode: the published dataset (a folder of the export directory) whose examples stay picked "
        "while they remain in the pool, so a new day or a topic-model refit only adds to what shipped "
        "(rules, dedup and review still remove). '' = pick from scratch on every refresh."))
    n_per_cluster: int = Field(20, description="per_cluster mode: at most this many examples per cluster.")
    general_share: float = Field(0.5, description="Target share of the 'general' template in the sample.")
    mix_tolerance: float = Field(0.05, description="WARN when the general share misses the target by more.")
    general_template: str = "general"
    seed: int = 42
    mix_strategy: str = Field("trim", description=(
        "'trim': take fewer rows of the over-represented category so the mix holds (clusters are often "
        "all-general or all-one-template); 'fill': every cluster gets min(N, size) rows, mix as close as that allows."))

    def to_settings(self) -> SampleSettings:
        return SampleSettings(n_per_cluster=self.n_per_cluster, general_share=self.general_share,
                              general_template=self.general_template, seed=self.seed,
                              mix_strategy=self.mix_strategy, mode=self.mode,
                              target_examples=self.target_examples, max_pool_share=self.max_pool_share,
                              quality_weight=self.quality_weight, max_per_prompt=self.max_per_prompt,
                              within_cell=self.within_cell, balance=self.balance)


SamplingConfig = team_defaults(SamplingConfig, "sampling", check=lambda c: c.to_settings())
