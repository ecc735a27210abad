import dagster as dg
from pydantic import Field

from curation_dagster.defs.settings import team_defaults
from curation_dagster.lib.sampling import SampleSettings


class SamplingConfig(dg.Config):
    n_per_cluster: int = Field(20, description="At most this many examples per cluster.")
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
                              mix_strategy=self.mix_strategy)


SamplingConfig = team_defaults(SamplingConfig, "sampling", check=lambda c: c.to_settings())
