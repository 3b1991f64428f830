from django.db import migrations, models

# The open deals' index of the board (0005) also carries the deal's id, so the board's one statement —
# open deals joined to their commit row — reads no table page (index-only scan). Same key, same predicate:
# every reader of the old index reads this one. The commit rows by (category, period), not a partial index on
# category = 'commit': bound as a parameter, the category would keep a generic plan off a partial index.
CREATE_CELLS = (
    "CREATE INDEX IF NOT EXISTS forecasting_opp_board_cells ON followups_opportunity "
    "(expected_close) INCLUDE (amount, credit_score, stage_id, owner_id, id) WHERE is_open"
)
CREATE_WEEKS = (
    "CREATE INDEX IF NOT EXISTS forecasting_opp_board_weeks ON followups_opportunity "
    "(expected_close) INCLUDE (amount, credit_score, stage_id, owner_id) WHERE is_open"
)


class Migration(migrations.Migration):

    dependencies = [("forecasting", "0009_sealed_line_sums")]

    operations = [
        migrations.RunSQL(
            [CREATE_CELLS, "DROP INDEX IF EXISTS forecasting_opp_board_weeks"],
            [CREATE_WEEKS, "DROP INDEX IF EXISTS forecasting_opp_board_cells"],
        ),
        migrations.AddIndex(
            model_name="commitcurrent",
            index=models.Index(fields=["category", "period"], include=["opportunity"], name="forecasting_commit_cur_week"),
        ),
    ]
