"""The README's Label Studio steps, run as written in a fresh shell: start, then push with the CLI.

The block under "Correcting predictions in Label Studio" is taken from the
README itself, so the test breaks when the README and the scripts drift
apart. Two words are swapped, because a test may neither train the default
model nor share a project title: ``models/default`` becomes the tiny trained
model and the project title a unique one. ``start`` finds the server that
scripts/test.sh started for this checkout and prints its settings; if none
is running (the tests were given another server) it starts one, which this
test stops again.
"""

from __future__ import annotations

import os
import re
import subprocess
from pathlib import Path

import pytest

from sourcemark.annotation.client import ConnectionSettings, LabelStudioClient, Secret

from conftest import ROOT
from test_labelstudio_support import ls_settings, project_name  # noqa: F401 - fixtures

pytestmark = pytest.mark.labelstudio

SECTION = "## Correcting predictions in Label Studio"


def readme_session_block() -> str:
    """The first ```bash block of the README's Label Studio section."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text[text.index(SECTION):]
    match = re.search(r"```bash\n(.*?)```", section, re.S)
    assert match, "the README's Label Studio section has no bash block"
    return match.group(1)


def script_server_running() -> bool:
    return subprocess.run(["bash", "scripts/labelstudio.sh", "status"], cwd=ROOT, capture_output=True).returncode == 0


def test_readme_steps_start_and_push(ls_settings: ConnectionSettings, project_name: str, trained) -> None:
    block = readme_session_block()
    assert 'eval "$(bash scripts/labelstudio.sh start)"' in block and "sourcemark ls push" in block
    assert "models/default" in block and '"Syria desk"' in block
    steps = block.replace("models/default", str(trained[0])).replace('"Syria desk"', f'"{project_name}"')
    # what the steps leave in the shell, for the checks below (printed by the test, not by the README)
    script = f"set -e\n{steps}\necho \"SETTINGS $LABEL_STUDIO_URL $LABEL_STUDIO_API_KEY\"\n"
    env = {k: v for k, v in os.environ.items() if not k.startswith("LABEL_STUDIO_")}  # a fresh shell
    env["SOURCEMARK_LS_CONFIG"] = "/nonexistent/labelstudio.toml"
    was_running = script_server_running()
    try:
        done = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True, text=True,
                              timeout=600)
    finally:
        if not was_running:
            subprocess.run(["bash", "scripts/labelstudio.sh", "stop"], cwd=ROOT, capture_output=True)
    assert done.returncode == 0, done.stderr[-2000:]
    url, token = done.stdout.split("SETTINGS ", 1)[1].split()
    assert re.search(r"project \d+ \(created\): 3 task\(s\) created", done.stdout), done.stdout[-500:]

    # start told the person where to log in, without the password
    password_file = Path(re.search(r"the password is in (\S+)", done.stderr).group(1))
    assert f"open {url} in a browser and log in as sourcemark@localhost" in done.stderr
    password = password_file.read_text().strip()
    assert password and password not in done.stderr and password not in done.stdout

    with LabelStudioClient(ConnectionSettings(url, Secret(token), "README", 30.0)) as client:
        project = client.require_project(project_name)
        tasks = list(client.iter_tasks(int(project["id"])))
        assert len(tasks) == 3 and project["show_instruction"] and "attributed_report" in project["expert_instruction"]
        assert len(client.list_predictions(int(project["id"]))) == 3
