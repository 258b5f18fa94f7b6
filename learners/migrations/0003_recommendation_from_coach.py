# A recommendation moves from the coach app to the learners app, with its rows: the table is
# kept as it is here (state only) and renamed in 0004.

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("coach", "0004_enginerun_enginesnapshot_recommendation_snapshot_and_more"),
        ("learners", "0002_cohort_archived_cohort_co_teachers_and_more"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.CreateModel(
                    name="Recommendation",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                            ),
                        ),
                        ("created_at", models.DateTimeField(auto_now_add=True, db_index=True)),
                        ("subject", models.CharField(blank=True, max_length=100, verbose_name="subject")),
                        (
                            "task_kind",
                            models.CharField(blank=True, max_length=20, verbose_name="kind of task"),
                        ),
                        ("expected_score", models.FloatField()),
                        ("score_std", models.FloatField()),
                        ("exploration", models.BooleanField(default=False)),
                        ("reason", models.TextField()),
                        ("ranking", models.JSONField()),
                        (
                            "source",
                            models.CharField(
                                choices=[
                                    ("evidence", "Published evidence"),
                                    ("history", "Evidence and your own sessions"),
                                    ("engine", "Engine"),
                                ],
                                max_length=10,
                            ),
                        ),
                        ("basis", models.CharField(max_length=120)),
                        (
                            "status",
                            models.CharField(
                                choices=[
                                    ("shown", "Shown"),
                                    ("followed", "Followed"),
                                    ("dismissed", "Dismissed"),
                                ],
                                default="shown",
                                max_length=10,
                            ),
                        ),
                        ("dismissed_reason", models.CharField(blank=True, max_length=200)),
                        ("responded_at", models.DateTimeField(blank=True, null=True)),
                        (
                            "learner",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.CASCADE,
                                related_name="recommendations",
                                to="learners.learner",
                            ),
                        ),
                        (
                            "snapshot",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.SET_NULL,
                                related_name="recommendations",
                                to="coach.enginesnapshot",
                            ),
                        ),
                        (
                            "strategy",
                            models.ForeignKey(
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="coach.strategy",
                            ),
                        ),
                    ],
                    options={
                        "ordering": ["-created_at", "-id"],
                        "db_table": "coach_recommendation",
                        "constraints": [
                            models.UniqueConstraint(
                                fields=("learner", "basis"), name="recommendation_unique_basis"
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("expected_score__gte", 0), ("expected_score__lte", 100)),
                                name="recommendation_score_range",
                            ),
                            models.CheckConstraint(
                                condition=models.Q(("score_std__gte", 0)),
                                name="recommendation_std_nonnegative",
                            ),
                        ],
                    },
                ),
                migrations.AlterField(
                    model_name="studysession",
                    name="recommendation",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="sessions",
                        to="learners.recommendation",
                    ),
                ),
                migrations.AlterField(
                    model_name="studytimer",
                    name="recommendation",
                    field=models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to="learners.recommendation",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
