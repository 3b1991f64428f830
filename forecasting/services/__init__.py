"""Writes and scheduled work of forecasting, one module per sub-area."""
