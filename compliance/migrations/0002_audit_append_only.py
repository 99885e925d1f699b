"""The audit log refuses UPDATE, DELETE and TRUNCATE in the database itself."""

from django.db import migrations

FORWARD = """
CREATE OR REPLACE FUNCTION vigil_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'vigil: % on % is not allowed: the table is append-only', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER auditentry_no_update_delete
    BEFORE UPDATE OR DELETE ON compliance_auditentry
    FOR EACH ROW EXECUTE FUNCTION vigil_refuse_change();
CREATE TRIGGER auditentry_no_truncate
    BEFORE TRUNCATE ON compliance_auditentry
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_refuse_change();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS auditentry_no_update_delete ON compliance_auditentry;
DROP TRIGGER IF EXISTS auditentry_no_truncate ON compliance_auditentry;
"""


class Migration(migrations.Migration):
    dependencies = [("compliance", "0001_initial")]

    operations = [
        migrations.RunSQL(FORWARD, BACKWARD, hints={"model_name": "auditentry"}),
    ]
