"""The Data Manager tab that ``push`` saves in a project: the most uncertain articles first.

Label Studio's own queue already serves the most uncertain task first
(uncertainty sampling); this tab shows the same order to a project lead
browsing the Data Manager. It sorts by the prediction score ascending rather
than by ``data.uncertainty``, because a prediction's score is 1 - uncertainty
for pushed predictions *and* is set by the ML backend for tasks it predicted,
which carry no ``uncertainty`` field and would sink to the bottom of an
uncertainty sort. ``uncertainty`` is shown as a number (a string column sorts
"0.1" after "0.09"), and the raw ``data`` column (the whole task data as one
``{...}`` cell) is hidden: the text, id and uncertainty have their own columns.
"""

from __future__ import annotations

from typing import Any

from sourcemark.annotation.client import LabelStudioClient
from sourcemark.annotation.config import TEXT_KEY, UNCERTAINTY_KEY

UNCERTAIN_FIRST_TITLE = "Most uncertain first"
VIEWS_PATH = "/api/dm/views/"
#: Columns hidden in the table ("explore"): bookkeeping that pushes the article's id and uncertainty
#: out of sight, and the raw ``data`` column (the whole task data as one ``{...}`` cell).
HIDDEN_IN_TABLE = ["tasks:data", "tasks:inner_id", "tasks:annotations_ids", "tasks:annotations_results",
                   "tasks:predictions_results", "tasks:file_upload", "tasks:storage_filename", "tasks:created_at",
                   "tasks:updated_at", "tasks:updated_by", "tasks:avg_lead_time", "tasks:draft_exists"]
#: Columns hidden in the task list beside the labelling screen ("labeling"): it keeps id, doc_id,
#: uncertainty and the prediction score.
HIDDEN_WHILE_LABELLING = HIDDEN_IN_TABLE + [
    f"tasks:data.{TEXT_KEY}", "tasks:completed_at", "tasks:total_annotations", "tasks:cancelled_annotations",
    "tasks:total_predictions", "tasks:annotators", "tasks:predictions_model_versions"]


def uncertain_first_view(project_id: int) -> dict[str, Any]:
    """The request body that creates the tab in ``project_id``."""
    return {
        "project": project_id,
        "data": {
            "title": UNCERTAIN_FIRST_TITLE,
            "type": "list",
            "target": "tasks",
            "ordering": ["tasks:predictions_score"],
            "filters": {"conjunction": "and", "items": []},
            "hiddenColumns": {"explore": list(HIDDEN_IN_TABLE), "labeling": list(HIDDEN_WHILE_LABELLING)},
            "columnsDisplayType": {f"tasks:data.{UNCERTAINTY_KEY}": "Number"},
        },
    }


def ensure_uncertain_first_view(client: LabelStudioClient, project_id: int) -> bool:
    """Save the tab unless the project already has one of that title; True when it was created now."""
    views = client.request("GET", VIEWS_PATH, params={"project": project_id}) or []
    if any((v.get("data") or {}).get("title") == UNCERTAIN_FIRST_TITLE for v in views):
        return False
    client.request("POST", VIEWS_PATH, params={"project": project_id}, json=uncertain_first_view(project_id))
    return True
