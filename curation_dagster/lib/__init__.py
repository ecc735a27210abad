"""Pure curation logic: no Dagster imports here, so every block is testable on its own."""
