"""Checkpoints (public) and violation records and reviews (tenant schemas) are append-only.

The triggers raise on UPDATE, DELETE and TRUNCATE whoever runs them, so even a
bug or a stray psql session cannot rewrite evidence; the error carries a hint
saying what to do instead.
"""

from django.db import migrations

CHECKPOINT_FORWARD = """
CREATE TRIGGER chaincheckpoint_no_update_delete
    BEFORE UPDATE OR DELETE ON compliance_chaincheckpoint
    FOR EACH ROW EXECUTE FUNCTION vigil_refuse_change();
CREATE TRIGGER chaincheckpoint_no_truncate
    BEFORE TRUNCATE ON compliance_chaincheckpoint
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_refuse_change();
"""
CHECKPOINT_BACKWARD = """
DROP TRIGGER IF EXISTS chaincheckpoint_no_update_delete ON compliance_chaincheckpoint;
DROP TRIGGER IF EXISTS chaincheckpoint_no_truncate ON compliance_chaincheckpoint;
"""

# Created in each tenant schema (first on the search path while migrating).
RECORD_FUNCTION = """
CREATE OR REPLACE FUNCTION vigil_refuse_record_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'vigil: % on % is not allowed: safety records are append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Record a verdict as a new compliance_violationreview row instead of editing.';
END;
$$ LANGUAGE plpgsql;
"""


def _triggers(table: str) -> str:
    return f"""
CREATE TRIGGER {table}_no_update_delete
    BEFORE UPDATE OR DELETE ON compliance_{table}
    FOR EACH ROW EXECUTE FUNCTION vigil_refuse_record_change();
CREATE TRIGGER {table}_no_truncate
    BEFORE TRUNCATE ON compliance_{table}
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_refuse_record_change();
"""


def _drop(table: str) -> str:
    return f"""
DROP TRIGGER IF EXISTS {table}_no_update_delete ON compliance_{table};
DROP TRIGGER IF EXISTS {table}_no_truncate ON compliance_{table};
"""


class Migration(migrations.Migration):
    dependencies = [("compliance", "0003_records_checkpoints_exports")]

    operations = [
        migrations.RunSQL(
            CHECKPOINT_FORWARD, CHECKPOINT_BACKWARD, hints={"model_name": "chaincheckpoint"}
        ),
        migrations.RunSQL(
            RECORD_FUNCTION + _triggers("violationrecord"),
            _drop("violationrecord"),
            hints={"model_name": "violationrecord"},
        ),
        migrations.RunSQL(
            RECORD_FUNCTION + _triggers("violationreview"),
            _drop("violationreview"),
            hints={"model_name": "violationreview"},
        ),
    ]
