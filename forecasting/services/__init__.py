"""Writes and scheduled work of forecasting, one module per sub-area (evidence, gates, confirmation, prepayment, finance_secret, forecast_*, targets, heatmap)."""
