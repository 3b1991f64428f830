"""Reads of forecasting, one module per sub-area."""
