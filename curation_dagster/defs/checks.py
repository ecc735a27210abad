"""Turn Great Expectations outcomes into Dagster asset check results a data engineer can read."""

import dagster as dg
import numpy as np
import pandas as pd

from curation_dagster.lib.gx_suite import SuiteOutcome, run_suite

ERROR = dg.AssetCheckSeverity.ERROR
WARN = dg.AssetCheckSeverity.WARN


def spec(name: str, asset: str, description: str, severity: dg.AssetCheckSeverity) -> dg.AssetCheckSpec:
    """ERROR checks block: downstream assets of a failing one do not run in that run."""
    return dg.AssetCheckSpec(
        name=name, asset=asset, blocking=severity == ERROR,
        description=f"[{severity.value}{', blocking' if severity == ERROR else ''}] {description}",
    )


def outcome_table(outcome: SuiteOutcome) -> dg.TableMetadataValue:
    rows = [dg.TableRecord({
        "expectation": o.expectation,
        "success": o.success,
        "unexpected": -1 if o.unexpected_count is None else int(o.unexpected_count),
        "observed": "" if o.observed_value is None else str(o.observed_value)[:80],
        "examples": ", ".join(o.examples),
    }) for o in outcome.outcomes]
    return dg.MetadataValue.table(rows, schema=dg.TableSchema(columns=[
        dg.TableColumn("expectation", "string"), dg.TableColumn("success", "bool"),
        dg.TableColumn("unexpected", "int"), dg.TableColumn("observed", "string"),
        dg.TableColumn("examples", "string"),
    ]))


def gx_check(suites: list[tuple[pd.DataFrame, list]], check_name: str, asset: str,
             severity: dg.AssetCheckSeverity, extra: dict | None = None) -> dg.AssetCheckResult:
    """Validate each (frame, expectations) pair with GX; the check passes when every expectation does."""
    parts = [run_suite(df, exps, f"{asset}.{check_name}.{i}") for i, (df, exps) in enumerate(suites)]
    outcome = SuiteOutcome(
        suite=f"{asset}.{check_name}", success=all(p.success for p in parts),
        evaluated=sum(p.evaluated for p in parts), successful=sum(p.successful for p in parts),
        outcomes=[o for p in parts for o in p.outcomes],
    )
    failed = outcome.failed
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=check_name,
        passed=outcome.success,
        severity=severity,
        metadata={
            "evaluated_expectations": outcome.evaluated,
            "successful_expectations": outcome.successful,
            "failed_expectations": ", ".join(o.expectation for o in failed) or "none",
            "expectations": outcome_table(outcome),
            **(extra or {}),
        },
    )


def vector_geometry(vectors) -> pd.DataFrame:
    """dimension, finite and norm (-1 when not finite) of each vector, for GX expectations."""
    arrays = [np.asarray(v, dtype=np.float64) for v in vectors]
    return pd.DataFrame({
        "dimension": [a.shape[0] for a in arrays],
        "finite": [bool(np.isfinite(a).all()) for a in arrays],
        "norm": [float(np.linalg.norm(a)) if np.isfinite(a).all() else -1.0 for a in arrays],
    })
