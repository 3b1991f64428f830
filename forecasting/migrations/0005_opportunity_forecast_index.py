from django.db import migrations


class Migration(migrations.Migration):
    """The board sums open deals by close week: answered from this index alone (index-only scan),
    not from the opportunity rows. Kept here because only the forecast reads it."""

    dependencies = [("forecasting", "0004_commit_current"), ("followups", "0001_initial")]

    operations = [
        migrations.RunSQL(
            "CREATE INDEX IF NOT EXISTS forecasting_opp_board_weeks ON followups_opportunity "
            "(expected_close) INCLUDE (amount, credit_score, stage_id, owner_id) WHERE is_open",
            "DROP INDEX IF EXISTS forecasting_opp_board_weeks",
        ),
    ]
