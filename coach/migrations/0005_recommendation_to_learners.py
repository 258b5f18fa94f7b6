# The recommendation now belongs to the learners app (learners 0003): only the state moves.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("coach", "0004_enginerun_enginesnapshot_recommendation_snapshot_and_more"),
        ("learners", "0003_recommendation_from_coach"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.DeleteModel(name="Recommendation")],
            database_operations=[],
        ),
    ]
