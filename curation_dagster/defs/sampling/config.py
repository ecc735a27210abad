import dagster as dg
from pydantic import Field

from curation_dagster.lib.sampling import SampleSettings


class SamplingConfig(dg.Config):
    n_per_cluster: int = Field(20, description="At most this many examples per cluster.")
    general_share: float = Field(0.5, description="Target share of the 'general' template in the sample.")
    general_template: str = "general"
    seed: int = 42

    def to_settings(self) -> SampleSettings:
        return SampleSettings(n_per_cluster=self.n_per_cluster, general_share=self.general_share,
                              general_template=self.general_template, seed=self.seed)
