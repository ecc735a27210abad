"""The data contract of a generation and helpers to hold data to it."""

from __future__ import annotations

import pandas as pd

CONTRACT_COLUMNS: tuple[str, ...] = (
    "generation_id", "created_at", "template_id", "generator_version", "instruction", "identity",
    "input_message", "output", "copied", "sent", "edit_ratio", "rating",
)
TEXT_COLUMNS: tuple[str, ...] = (
    "generation_id", "template_id", "generator_version", "instruction", "identity", "input_message", "output",
)


def safe_text(v):
    """Strings a warehouse can store: lone surrogates become U+FFFD, other types their str()."""
    if v is None or (isinstance(v, float) and v != v):
        return None
    if v is pd.NA or v is pd.NaT:
        return None
    if not isinstance(v, str):
        v = str(v)
    return v.encode("utf-8", "surrogatepass").decode("utf-8", "replace")


def conform(df: pd.DataFrame) -> pd.DataFrame:
    """Give a frame exactly the contract's columns and storable dtypes (missing optional columns -> null)."""
    out = pd.DataFrame(index=df.index)
    for col in CONTRACT_COLUMNS:
        out[col] = df[col] if col in df.columns else None
    out["created_at"] = pd.to_datetime(out["created_at"], utc=True).dt.tz_convert(None).astype("datetime64[us]")
    for col in TEXT_COLUMNS:
        out[col] = out[col].map(safe_text).astype(object)
    out["copied"] = out["copied"].astype("boolean")
    out["sent"] = out["sent"].astype("boolean")
    out["edit_ratio"] = pd.to_numeric(out["edit_ratio"], errors="coerce").astype("float64")
    out["rating"] = pd.to_numeric(out["rating"], errors="coerce").astype("Int64")
    return out.reset_index(drop=True)
