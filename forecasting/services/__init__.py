"""Forecasting services."""
