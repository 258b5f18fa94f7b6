# The moved recommendation's table takes its app's name; rows and keys are kept by the rename.

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("coach", "0005_recommendation_to_learners"),
        ("learners", "0003_recommendation_from_coach"),
    ]

    operations = [migrations.AlterModelTable(name="recommendation", table=None)]
