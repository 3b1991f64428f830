"""How right the frozen forecasts were: WAPE, bias, Brier score and calibration.

For a period P (a closed week, or a closed month) and a lead time of L weeks, the forecast is
read from the snapshot frozen L weeks before P began (for a month: before its first Monday)
— summing its lines whose close date falls in P — and compared with the amount actually won
in P (deals whose move to a won stage was recorded in P). Methods on the same lines:

- credit: Σ amount × the band's in-week weight at the line's lead that the snapshot froze (P(won within
  the forecast week | band, lead), rolling origin) + the residual the snapshot froze for the scope
  (the amount won lately per week by deals not yet in the pipeline at that lead);
- stage: Σ amount × Stage.probability as typed (what peers do);
- stage_fitted: the credit method with the stage as feature (P(won within the week | stage, lead),
  fitted and shrunk the same way, the same residual): "how much of credit's edge is evidence, how
  much is fitting to the tenant's own history" (the page only; SPEC §8's command prints the four);
- commit: Σ amount of lines the rep had in "commit" for that period;
- runrate: the won amount of the 4 weeks before the snapshot, per week (× weeks in a month).

Snapshots frozen before in-week weights (lines without `lead`) are read as they were: eventual-win
credit weights, no residual, no fitted-stage figure (stage_fitted leaves such periods out).

Lines whose forecast week is over are rolled up once that week ends (forecasting/sealing.py, `SealedLineSums`):
the forecast sums, Brier terms and calibration counts are read from the sealed rows where the (snapshot, week)
is sealed, and from the lines elsewhere (weeks over but not sealed yet, snapshots before in-week weights) — the
same exact sums either way, so no figure depends on whether sealing ran.

WAPE = Σ|F − A| / ΣA and bias = Σ(F − A) / ΣA over all periods (undefined when nothing was won).
Periods without a snapshot at that lead are left out and not counted.

The modules, from the page down:
- `measure`: the page's figures for a scope, lead and weeks or months (`accuracy_measure`, cached;
  `accuracy_compute`, afresh);
- `calibration`: credit band → the weight used and the share won;
- `cache`: the data version the cached figures are kept under;
- `scores`: WAPE, bias and Brier arithmetic, the methods' names;
- `snapshot_sums`: the reads of what the snapshots forecast (sealed roll-ups and lines), residuals,
  manager adjustments and the Brier terms;
- `won`: the amount won per day, the actuals every method is scored against.
"""
