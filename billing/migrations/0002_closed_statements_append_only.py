"""Closed statements, their lines and rate card versions refuse UPDATE, DELETE and TRUNCATE.

A closed period is a snapshot: changing a rate card adds a version, it never
rewrites one, and nothing may edit a statement once written. The error names
the table and says what to do instead.
"""

from django.db import migrations

FUNCTION = """
CREATE OR REPLACE FUNCTION vigil_refuse_billing_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'vigil: % on % is not allowed: closed billing records are immutable', TG_OP, TG_TABLE_NAME
        USING ERRCODE = 'insufficient_privilege',
              HINT = 'Add a new rate card version or issue a credit instead of editing.';
END;
$$ LANGUAGE plpgsql;
"""


def _triggers(table: str) -> str:
    return f"""
CREATE TRIGGER {table}_no_update_delete
    BEFORE UPDATE OR DELETE ON billing_{table}
    FOR EACH ROW EXECUTE FUNCTION vigil_refuse_billing_change();
CREATE TRIGGER {table}_no_truncate
    BEFORE TRUNCATE ON billing_{table}
    FOR EACH STATEMENT EXECUTE FUNCTION vigil_refuse_billing_change();
"""


def _drop(table: str) -> str:
    return f"""
DROP TRIGGER IF EXISTS {table}_no_update_delete ON billing_{table};
DROP TRIGGER IF EXISTS {table}_no_truncate ON billing_{table};
"""


class Migration(migrations.Migration):
    dependencies = [("billing", "0001_initial")]

    operations = [
        migrations.RunSQL(
            FUNCTION + _triggers("statement"), _drop("statement"), hints={"model_name": "statement"}
        ),
        migrations.RunSQL(
            _triggers("statementline"),
            _drop("statementline"),
            hints={"model_name": "statementline"},
        ),
        migrations.RunSQL(
            _triggers("ratecard"), _drop("ratecard"), hints={"model_name": "ratecard"}
        ),
    ]
