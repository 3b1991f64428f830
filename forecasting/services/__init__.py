"""Writes of forecasting. Import from the sub-modules (evidence, gates, confirmation, prepayment, finance_secret, forecast_*)."""
