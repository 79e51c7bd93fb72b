"""Measurement: funnel, velocity, validation, thresholds, backtest comparison, maturity (Polars only)."""
