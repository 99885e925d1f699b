from django.db import migrations, models

# The "total" and one-dimension CoarseRollup projections are new: every hour that
# already has rollups is marked dirty so the rollup job builds them (and re-sums its
# day). Until it has, reads that pick a new projection see the hours not yet rebuilt
# as empty; `manage.py rebuild_rollups` does it at once.
MARK_ROLLED_UP_HOURS_DIRTY = """
INSERT INTO metrics_dirtyhour (hour, marked_at)
SELECT DISTINCT hour, clock_timestamp() FROM metrics_hourlyrollup
ON CONFLICT (hour) DO UPDATE SET marked_at = clock_timestamp()
"""


class Migration(migrations.Migration):
    dependencies = [
        ("metrics", "0008_ingest_settings_content_switch_only"),
    ]

    operations = [
        migrations.AddIndex(
            model_name="coarserollup",
            index=models.Index(
                fields=["projection", "customer", "period", "start"],
                name="coarserollup_customer",
            ),
        ),
        migrations.RunSQL(
            MARK_ROLLED_UP_HOURS_DIRTY, migrations.RunSQL.noop, hints={"model_name": "dirtyhour"}
        ),
    ]
