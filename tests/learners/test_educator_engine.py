"""The engine page: runs with their figures, Retrain now, and the progress endpoint."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from coach.models import EngineRun
from learners.charts import engine_rmse_chart

pytestmark = pytest.mark.django_db

METRICS = {
    "held_out_learners": 12,
    "ks": [0, 1, 2, 5, 10],
    "learners": {
        "model": {"rmse": [20.0, 18.0, 16.5, 14.25, 12.5], "coverage90": [0.9, 0.9, 0.88, 0.9, 0.91]},
        "memory": {"rmse": [22.0, 19.0, 17.0, 15.0, 13.75], "coverage90": [0.8] * 5},
        "optimization": {
            "rmse": [21.0, 18.5, 16.0, 14.0, 12.75],
            "coverage90": [0.86, 0.87, 0.89, 0.9, 0.92],
        },
        "evidence": {"rmse": [25.0] * 5, "coverage90": [0.7] * 5},
    },
}
# A run recorded before the optimization learner was evaluated.
OLD_METRICS = {**METRICS, "learners": {k: v for k, v in METRICS["learners"].items() if k != "optimization"}}  # type: ignore[attr-defined]


def finished_run(**fields: object) -> EngineRun:
    started = timezone.now() - timedelta(minutes=5)
    values: dict[str, object] = {
        "status": EngineRun.Status.SUCCEEDED,
        "active": False,
        "progress": 100,
        "started_at": started,
        "finished_at": started + timedelta(seconds=42),
        "n_learners": 40,
        "n_sessions": 800,
        "metrics": METRICS,
    }
    return EngineRun.objects.create(**{**values, **fields})


def test_engine_page_lists_runs_with_duration_and_figures(charlie_client: Client) -> None:
    finished_run()
    page = charlie_client.get(reverse("educator-engine")).content.decode()
    assert "42.0 s" in page
    assert "40 / 800" in page
    assert (
        "12.5 / 13.8 / 12.8 / – / 25.0" in page
    )  # model, memory, optimization, combined, evidence at k = 10
    assert "91%" in page
    assert 'id="chart-engine-rmse"' in page


def evaluation_row(page: str, key: str) -> str:
    start = page.index(f'<tr id="learner-{key}">')
    return page[start : page.index("</tr>", start)]


def test_engine_page_gives_each_learner_its_figures_at_every_k(charlie_client: Client) -> None:
    finished_run()
    page = charlie_client.get(reverse("educator-engine")).content.decode()
    for k in METRICS["ks"]:  # type: ignore[attr-defined]
        assert f'<th scope="col">k = {k}</th>' in page
    optimization = evaluation_row(page, "optimization")
    assert "starting point and step sizes are learned across learners" in optimization
    assert re.findall(r"<td class=\"figure\" data-label=\"k = \d+\">(.*?)</td>", optimization) == [
        "21.0 / 86%",
        "18.5 / 87%",
        "16.0 / 89%",
        "14.0 / 90%",
        "12.8 / 92%",
    ]
    assert "reuses what worked for similar learners" in evaluation_row(page, "memory")
    assert "a population model adapted from a few sessions" in evaluation_row(page, "model")
    # Only the learner that ranks the strategies says so.
    assert "ranks the strategies" in evaluation_row(page, "model")
    assert "ranks the strategies" not in optimization + evaluation_row(page, "memory")


def test_engine_page_describes_the_learners_in_chinese(charlie_client: Client) -> None:
    finished_run()
    page = charlie_client.get(reverse("educator-engine"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    optimization = evaluation_row(page, "optimization")
    assert "基于优化：每位学习者一个模型，其起点和步长从所有学习者身上学得。" in optimization
    assert "基于记忆：沿用对相似学习者有效的做法。" in evaluation_row(page, "memory")
    assert "为策略排序" in evaluation_row(page, "model")
    assert '<dt id="term-optimization">优化</dt>' in page


def test_a_run_recorded_before_the_optimization_learner_shows_the_others(charlie_client: Client) -> None:
    finished_run(metrics=OLD_METRICS)
    page = charlie_client.get(reverse("educator-engine")).content.decode()
    assert "12.5 / 13.8 / – / – / 25.0" in page
    assert 'id="learner-optimization"' not in page
    assert 'id="learner-memory"' in page


def test_evaluation_says_what_it_rests_on_and_draws_intervals(charlie_client: Client) -> None:
    learners = {
        name: {**figures, "rmse_ci95": [[v - 2.0, v + 3.0] for v in figures["rmse"]]}
        for name, figures in METRICS["learners"].items()  # type: ignore[attr-defined]
    }
    metrics = {
        **METRICS,
        "n": [400, 380, 360, 300, 220],
        "n_learners": [12, 12, 12, 11, 9],
        "learners": learners,
    }
    finished_run(metrics=metrics)
    page = charlie_client.get(reverse("educator-engine")).content.decode()
    assert "Measured on 12 held-out learners" in page
    assert "after 10 sessions: 220 predictions for 9 learners" in page
    assert "Model 12.5 (95% interval 10.5–15.5)" in page
    assert '"arrayminus":[2.0,2.0,2.0,2.0,2.0]' in page.replace(" ", "")


def test_a_fit_on_a_sample_of_learners_says_so(charlie_client: Client) -> None:
    finished_run(n_learners=100_000, metrics={**METRICS, "fit_learners": 30_000})
    page = charlie_client.get(reverse("educator-engine")).content.decode()
    assert "fitted on a random sample of 30000 of the install's 100000" in page.replace("&#x27;", "'")


def test_a_fit_on_every_learner_says_nothing_of_a_sample(charlie_client: Client) -> None:
    finished_run(metrics={**METRICS, "fit_learners": 40})
    assert 'id="fit-sample"' not in charlie_client.get(reverse("educator-engine")).content.decode()


def test_a_run_recorded_without_intervals_still_draws(charlie_client: Client) -> None:
    finished_run()
    page = charlie_client.get(reverse("educator-engine")).content.decode()
    assert "Model 12.5;" in page
    assert "Measured on" not in page
    figure = engine_rmse_chart(metrics=METRICS).figure
    assert figure is not None
    assert all("error_y" not in trace for trace in figure.data)


def test_failed_run_shows_its_error(charlie_client: Client) -> None:
    finished_run(status=EngineRun.Status.FAILED, progress=40, metrics={}, error="Too few scored sessions")
    page = charlie_client.get(reverse("educator-engine")).content.decode()
    assert "Too few scored sessions" in page
    assert "No evaluation yet" in page


def test_retrain_now_queues_a_run_for_the_educator(charlie: User, charlie_client: Client) -> None:
    response = charlie_client.post(reverse("educator-engine-retrain"))
    assert response["Location"] == reverse("educator-engine")
    run = EngineRun.objects.get()
    assert (run.status, run.active, run.requested_by) == (EngineRun.Status.QUEUED, True, charlie)


def test_second_retrain_while_one_runs_says_so_and_starts_nothing(charlie_client: Client) -> None:
    charlie_client.post(reverse("educator-engine-retrain"))
    response = charlie_client.post(reverse("educator-engine-retrain"), follow=True)
    assert "already running" in response.content.decode()
    assert EngineRun.objects.count() == 1


def test_engine_page_polls_the_active_run(charlie_client: Client) -> None:
    run = EngineRun.objects.create(status=EngineRun.Status.RUNNING, progress=35)
    page = charlie_client.get(reverse("educator-engine")).content.decode()
    assert reverse("educator-engine-run-status", args=[run.pk]) in page
    assert 'data-active="true"' in page
    assert 'value="35"' in page


def test_status_endpoint_reports_progress_and_error(charlie_client: Client) -> None:
    run = finished_run(status=EngineRun.Status.FAILED, progress=60, error="boom")
    data = charlie_client.get(reverse("educator-engine-run-status", args=[run.pk])).json()
    assert data == {
        "status": "failed",
        "status_label": "Failed",
        "progress": 60,
        "error": "boom",
        "active": False,
    }


def test_status_endpoint_words_the_status_in_the_readers_language(charlie_client: Client) -> None:
    run = EngineRun.objects.create(status=EngineRun.Status.RUNNING, progress=35)
    url = reverse("educator-engine-run-status", args=[run.pk])
    assert charlie_client.get(url, HTTP_ACCEPT_LANGUAGE="zh-hans").json()["status_label"] == "进行中"


def row_of(page: str, run: EngineRun) -> str:
    start = page.index(f'<tr id="run-{run.pk}">')
    return page[start : page.index("</tr>", start)]


@pytest.mark.parametrize(
    ("status", "progress", "said"),
    [
        (EngineRun.Status.QUEUED, 0, "Queued (0%)"),
        (EngineRun.Status.RUNNING, 35, "Running (35%)"),
        (EngineRun.Status.SUCCEEDED, 100, "Succeeded (100%)"),
        (EngineRun.Status.FAILED, 40, "Failed"),
    ],
)
def test_progress_and_the_runs_table_word_a_run_alike(
    charlie_client: Client, status: str, progress: int, said: str
) -> None:
    active = status in {EngineRun.Status.QUEUED, EngineRun.Status.RUNNING}
    run = EngineRun.objects.create(status=status, progress=progress, active=active)
    page = charlie_client.get(reverse("educator-engine")).content.decode()
    assert f'<span id="engine-progress-text">{said}</span>' in page
    assert f'data-row="run-{run.pk}"' in page
    label = said.split(" (")[0]
    assert f'<span class="status status-{status}">{label}</span>' in row_of(page, run)


def test_the_page_holds_the_sections_the_progress_script_refreshes(charlie_client: Client) -> None:
    finished_run()
    page = charlie_client.get(reverse("educator-engine")).content.decode()
    assert '<section aria-labelledby="eval-title" id="evaluation">' in page
    assert '<section aria-labelledby="runs-title" id="runs">' in page


TERMS = [
    "RMSE",
    "Model",
    "Memory",
    "Optimization",
    "Evidence only",
    "k",
    "90% coverage",
    "Held-out learners",
    "Status",
]


def test_every_term_on_the_engine_page_is_explained_on_it(charlie_client: Client) -> None:
    finished_run()
    page = charlie_client.get(reverse("educator-engine")).content.decode()
    glossary = page[page.index('id="engine-terms"') :]
    terms = re.findall(r'<dt id="term-[\w-]+">(.*?)</dt>\s*<dd>(.*?)</dd>', glossary, flags=re.S)
    named = {term for term, _ in terms}
    for term in TERMS:
        assert any(name == term or name.startswith(term + " (") for name in named), term
    assert all(len(text.split()) >= 10 for _, text in terms)
    assert "snapshot" in glossary
    # Every header and sentence that points to a term lands on its explanation.
    targets = set(re.findall(r'href="#(term-[\w-]+)"', page))
    assert {"term-rmse", "term-k", "term-coverage", "term-held-out"} <= targets
    assert all(f'id="{target}"' in glossary for target in targets)


def test_status_of_a_missing_run_is_404(charlie_client: Client) -> None:
    assert charlie_client.get(reverse("educator-engine-run-status", args=[12345])).status_code == 404


def test_status_endpoint_refuses_post(charlie_client: Client) -> None:
    run = finished_run()
    assert charlie_client.post(reverse("educator-engine-run-status", args=[run.pk])).status_code == 405


# A run that fitted the combination: its cross-fitted figures and its weights per bucket.
COMBINED_METRICS = {
    **METRICS,
    "learners": {
        **METRICS["learners"],  # type: ignore[dict-item]
        "combined": {"rmse": [19.5, 17.75, 16.0, 14.0, 12.2], "coverage90": [0.9, 0.91, 0.9, 0.89, 0.9]},
    },
    "combination": {
        "bucket_starts": [0, 1, 3, 6, 11],
        "learners": ["model", "memory", "optimization"],
        "weights": [[0.6, 0.25, 0.15], [1.0, 0.0, 0.0], [0.5, 0.5, 0.0], [0.9, 0.1, 0.0], [1.0, 0.0, 0.0]],
        "method": ["stacking", "inverse_variance", "stacking", "stacking", "single"],
    },
}


def weights_rows(page: str) -> list[list[str]]:
    start = page.index('class="striped cards combination-weights"')
    table = page[start : page.index("</table>", start)]
    body = table[table.index("<tbody>") :]
    return [
        re.findall(r'<td[^>]*data-label="[^"]*">(.*?)</td>', row, flags=re.S)
        for row in body.split("<tr>")[1:]
    ]


def test_a_run_with_the_combination_shows_it_ranking_and_its_weights(charlie_client: Client) -> None:
    finished_run(metrics=COMBINED_METRICS)
    page = charlie_client.get(reverse("educator-engine")).content.decode()
    combined = evaluation_row(page, "combined")
    assert "ranks the strategies" in combined and "ranks the strategies" not in evaluation_row(page, "model")
    assert re.findall(r"<td class=\"figure\" data-label=\"k = \d+\">(.*?)</td>", combined)[0] == "19.5 / 90%"
    assert "12.5 / 13.8 / 12.8 / 12.2 / 25.0" in page
    assert "its row above is cross-fitted" in page
    rows = weights_rows(page)
    assert [row[0].split("<br>")[0] for row in rows] == ["0", "1–2", "3–5", "6–10", "11+"]
    assert [row[1:] for row in rows] == [
        ["60%", "25%", "15%"],
        ["100%", "0%", "0%"],
        ["50%", "50%", "0%"],
        ["90%", "10%", "0%"],
        ["100%", "0%", "0%"],
    ]
    assert "each weighed by how sure it is" in rows[1][0] and "how sure" not in rows[0][0]
    assert "the one that predicted best, alone" in rows[4][0] and "alone" not in rows[3][0]


def test_the_combination_reads_in_chinese(charlie_client: Client) -> None:
    finished_run(metrics=COMBINED_METRICS)
    page = charlie_client.get(reverse("educator-engine"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()
    assert "为策略排序" in evaluation_row(page, "combined")
    assert "组合如何为三个预测器加权" in page and "交叉拟合" in page
    assert '<dt id="term-combined">组合</dt>' in page
    assert "预测最准的那一个，单独使用" in weights_rows(page)[4][0]


def test_a_run_without_the_combination_shows_no_weights(charlie_client: Client) -> None:
    finished_run()
    page = charlie_client.get(reverse("educator-engine")).content.decode()
    assert "combination-weights" not in page and 'id="learner-combined"' not in page
