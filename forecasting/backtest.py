"""Backtest of the product's forecast methods on a tenant's frozen snapshots, and what the scored
lines say about the quantity forecast.

The methods are the accuracy page's (forecasting/accuracy/, computed afresh, not from the cache):
credit (in-week weights by band and lead + residual), stage as typed (`Stage.probability`, what
peers do), stage fitted like credit (the same in-week fit by stage + the same residual), commit and
the trailing run rate. Credit and the fitted stage differ only in what they condition on, so with
the evidence signal at 0 (credit carries no information the stage lacks) credit must not beat the
fitted stage beyond the noise between seeds; bench/bench_forecast.py checks that.

Diagnostics over the lines scored at the lead (lines forecasting a closed week L weeks after their
snapshot): the mean weight of each method, the share of those lines won within the forecast week
(what a weekly forecast needs) and, of those whose deal has closed, the share won eventually.
"""
import datetime as dt

from django.db import connection

from .accuracy.measure import accuracy_compute
from .accuracy.scores import PAGE_METHODS
from .weeks import tenant_tz, week_start

METHODS = PAGE_METHODS

DIAGNOSTICS_SQL = """
SELECT COUNT(*), AVG(l.credit_weight), AVG(l.stage_weight), AVG(l.stage_fit_weight),
    AVG(CASE WHEN EXISTS (
        SELECT 1 FROM followups_stagechange sc JOIN followups_stage ws ON ws.id = sc.to_stage_id AND ws.outcome = 'won'
        WHERE sc.opportunity_id = l.opportunity_id AND sc.at >= (l.close_week::timestamp AT TIME ZONE %(tz)s)
          AND sc.at < ((l.close_week + 7)::timestamp AT TIME ZONE %(tz)s)) THEN 1.0 ELSE 0.0 END),
    AVG(CASE st.outcome WHEN 'won' THEN 1.0 WHEN 'lost' THEN 0.0 END)
FROM forecasting_snapshotline l
JOIN forecasting_forecastsnapshot s ON s.id = l.snapshot_id
JOIN followups_opportunity o ON o.id = l.opportunity_id
JOIN followups_stage st ON st.id = o.stage_id
WHERE l.close_week = s.week + 7 * %(lead)s AND l.close_week + 7 <= %(current)s
"""


def backtest(*, lead: int, now: dt.datetime) -> dict:
    """WAPE/bias of every method at `lead` weeks over closed weeks, Brier per line, and diagnostics."""
    result = accuracy_compute(lead=lead, now=now)
    with connection.cursor() as cursor:
        cursor.execute(DIAGNOSTICS_SQL, {"tz": str(tenant_tz()), "lead": lead,
                                         "current": week_start(now, tenant_tz())})
        lines, credit, stage, fitted, in_week, eventually = cursor.fetchone()
    diagnostics = {"lines": lines}
    for name, value in (("mean_credit_weight", credit), ("mean_stage_weight", stage),
                        ("mean_stage_fitted_weight", fitted), ("won_in_forecast_week", in_week),
                        ("won_eventually_of_closed", eventually), ("brier_credit", result.brier_credit),
                        ("brier_stage", result.brier_stage), ("brier_stage_fitted", result.brier_stage_fitted)):
        if value is not None:
            diagnostics[name] = float(value)
    return {"scores": result.scores, "diagnostics": diagnostics}
