"""What an annotator sees, in a real headless Chromium against the shared Label Studio test server.

One test walks the annotator's path: log in, read the instructions, see the
project's "Most uncertain first" tab, open the task Label Studio serves first,
check that passages show their role names and regions their scores, that the
label bar stays on screen at the end of a long article, relabel one passage
through the UI, submit, and get the correction back with ``pull``.
Screenshots go to tests/artifacts/ for a person to look at (not committed).

Chromium and chromedriver come from Debian (``scripts/chromium.sh``, run by
``scripts/test.sh``); the test is skipped only when they are not installed.
Selenium is a dev dependency.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path
from typing import Any, Iterator

import pytest

from sourcemark.annotation.client import LabelStudioClient
from sourcemark.annotation.config import source_label
from sourcemark.annotation.pull import pull_corrections
from sourcemark.annotation.push import push_documents
from sourcemark.annotation.views import UNCERTAIN_FIRST_TITLE
from sourcemark.documents import Document, Passage, SourceMention
from sourcemark.jsonl import read_documents
from sourcemark.labels import ROLES, SOURCE_TYPES

from test_labelstudio_support import ls_client, ls_settings, project_name  # noqa: F401 - fixtures

pytestmark = pytest.mark.labelstudio

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
WIDTH, HEIGHT = 1600, 1000
WAIT = 60  # seconds for a page to show what is waited for, on a busy two-core machine
VERSION = "browser-test-1"
SCORE = re.compile(r"\b[01]\.\d\d\b")


def chromium_paths() -> tuple[str, str] | None:
    """The Chromium binary and its chromedriver, or None if either is missing."""
    browser = next((p for p in map(shutil.which, ("chromium", "chromium-browser", "google-chrome")) if p), None)
    driver = shutil.which("chromedriver") or next(
        (p for p in ("/usr/lib/chromium/chromedriver", "/usr/bin/chromedriver") if os.access(p, os.X_OK)), None)
    return (browser, driver) if browser and driver else None


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """A headless Chromium at 1600x1000 driven by selenium."""
    paths = chromium_paths()
    if paths is None:
        why = os.environ.get("SOURCEMARK_NO_CHROMIUM") or "scripts/chromium.sh was not run or could not install them"
        pytest.skip(f"Chromium and chromedriver (Debian packages chromium, chromium-driver) are not installed: {why}")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is missing: pip install -e '.[dev]'")
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = paths[0]
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                f"--window-size={WIDTH},{HEIGHT}", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(paths[1]), options=options)
    try:
        yield driver
    finally:
        driver.quit()


def login_password() -> tuple[str, str]:
    user, path = os.environ.get("LABEL_STUDIO_TEST_USER"), os.environ.get("LABEL_STUDIO_TEST_PASSWORD_FILE")
    if not user or not path or not Path(path).is_file():
        pytest.fail("no browser login for the Label Studio test server: `eval \"$(scripts/labelstudio.sh start)\"` "
                    "exports LABEL_STUDIO_TEST_USER and LABEL_STUDIO_TEST_PASSWORD_FILE", pytrace=False)
    return user, Path(path).read_text().strip()


def article(doc_id: str, sentences: int, base: float) -> Document:
    """A predicted article: one report per source type first (all twelve on the first screen), then
    passages cycling through the five roles, reports among them.

    Scores vary around ``base``; the document's uncertainty orders the queue.
    """
    text, passages = "", []
    for i in range(sentences):
        role = "attributed_report" if i < len(SOURCE_TYPES) else ROLES[i % len(ROLES)]
        kind = SOURCE_TYPES[i % len(SOURCE_TYPES)]
        name = kind.replace("_", " ").title()
        sentence = {
            "claim": f"Troops crossed the river at dawn on day {i}.",
            "attributed_report": f"{name} said {i} people were hurt near the crossing.",
            "analysis": f"It is likely that the offensive will stall by day {i + 10}.",
            "reader_comment": f"reader{i} says: i do not buy it",
            "other": f"Tags: river, day {i}",
        }[role]
        start = len(text)
        text += sentence + "\n"
        score = round(min(0.99, base + (i * 37 % 30) / 100), 2)
        mentions = [SourceMention(start, start + len(name), kind, score=round(score - 0.05, 2))] \
            if role == "attributed_report" else []
        probs = {r: score if r == role else round((1 - score) / 4, 4) for r in ROLES}
        passages.append(Passage(start, start + len(sentence), role, mentions, score=score, probs=probs))
    return Document(doc_id, text, {}, passages, model_version=VERSION)


def wait_for(driver: Any, condition: Any, what: str, timeout: float = WAIT) -> Any:
    from selenium.common.exceptions import TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:
        return WebDriverWait(driver, timeout, poll_frequency=0.3).until(condition)
    except TimeoutException:
        ARTIFACTS.mkdir(exist_ok=True)
        driver.save_screenshot(str(ARTIFACTS / "labelstudio-failure.png"))
        pytest.fail(f"the page did not show {what} within {timeout} s (see tests/artifacts/labelstudio-failure.png)")


def shot(driver: Any, name: str) -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / name
    driver.save_screenshot(str(path))
    return path


def page_text(driver: Any) -> str:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.TAG_NAME, "body").text


def test_annotator_sees_roles_and_scores_and_submits_a_correction(
        browser: Any, ls_client: LabelStudioClient, project_name: str, tmp_path: Path) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    started = time.time()
    long_doc, short_doc = article("long-article", 80, base=0.35), article("short-article", 10, base=0.7)
    stats = push_documents(ls_client, project_name, [short_doc, long_doc], create=True)
    url, project = ls_client.url, stats.project_id

    user, password = login_password()
    browser.get(f"{url}/user/login/")
    wait_for(browser, lambda d: d.find_elements(By.NAME, "email"), "the login form")
    browser.find_element(By.NAME, "email").send_keys(user)
    browser.find_element(By.NAME, "password").send_keys(password + Keys.ENTER)
    wait_for(browser, lambda d: "/user/login" not in d.current_url, "a logged-in page")

    # the Data Manager opens on the saved tab: most uncertain first, uncertainty a number, no raw data column
    browser.get(f"{url}/projects/{project}/data")
    wait_for(browser, lambda d: "long-article" in page_text(d) and "short-article" in page_text(d), "the task rows")
    text = page_text(browser)
    assert UNCERTAIN_FIRST_TITLE[:14] in text
    assert text.index("long-article") < text.index("short-article"), "the most uncertain article comes first"
    headers = [" ".join(h.text.split()) for h in browser.find_elements(By.CSS_SELECTOR, ".lsf-th")]
    assert "uncertainty num" in headers and "Prediction score" in headers, headers
    assert "data" not in headers and "Updated at" not in headers, headers
    shot(browser, "labelstudio-data-manager.png")

    # the labelling stream: instructions first, then the most uncertain task
    browser.get(f"{url}/projects/{project}/data?labeling=1")
    wait_for(browser, lambda d: "Labeling Instructions" in page_text(d), "the labelling instructions")
    instructions = page_text(browser)
    assert "attributed_report" in instructions and "Order by Score" in instructions
    assert "other_source" in instructions and "annotation guide" in instructions
    shot(browser, "labelstudio-instructions.png")
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.ESCAPE)
    wait_for(browser, lambda d: "Labeling Instructions" not in page_text(d), "the closed instructions")
    wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".htx-highlight")) > 90, "the predicted regions")
    assert "long-article" in page_text(browser), "Label Studio serves the most uncertain task first"

    # every passage shows its role name in the text (Label Studio draws the data-label after the region)
    shown = browser.execute_script("""
        return [...document.querySelectorAll('.htx-highlight')].map(
            s => window.getComputedStyle(s, '::after').content);""")
    for role in ROLES:
        assert any(c.endswith(f':{role}"') for c in shown), f"no passage shows its role name {role}: {shown[:8]}"
    assert any(c.endswith(':other_source"') for c in shown)

    # each source type's mentions are drawn in its own colour, strong enough to show over the passage's tint
    colours = browser.execute_script("""
        const out = {};
        for (const s of document.querySelectorAll('.htx-highlight[data-label]')) {
            const label = s.getAttribute('data-label').split(':').pop();
            out[label] = window.getComputedStyle(s).backgroundColor;
        }
        return out;""")
    mention_colours = {colours[source_label(t)] for t in SOURCE_TYPES}
    assert len(mention_colours) == len(SOURCE_TYPES), colours
    for t in SOURCE_TYPES:
        alpha = float(colours[source_label(t)].rstrip(")").split(",")[3])
        assert alpha >= 0.5, (t, colours[source_label(t)])

    # each region's score is readable in the region list, inside the panel (not pushed past its edge)
    rows = browser.execute_script("""
        return [...document.querySelectorAll('.lsf-outliner-item')].slice(0, 12).map(item => {
            const panel = item.closest('.lsf-tabs__contents') || document.body;
            const score = item.querySelector('[class*=control_type_predict]');
            return {text: item.innerText, right: score ? score.getBoundingClientRect().right : 1e9,
                    edge: Math.min(panel.getBoundingClientRect().right, window.innerWidth)};
        });""")
    assert rows, "no region list"
    for row in rows:
        assert SCORE.search(row["text"]) and row["right"] <= row["edge"] + 1, row
    assert any(role in rows[0]["text"] for role in ROLES)
    shot(browser, "labelstudio-labeling.png")

    # the label bar stays on screen at the end of the long article
    browser.execute_script("const s = document.querySelectorAll('.htx-highlight'); s[s.length - 1].scrollIntoView();")
    time.sleep(0.5)
    bar = browser.execute_script("""
        const button = [...document.querySelectorAll('.lsf-label')].find(l => l.innerText.startsWith('analysis'));
        const r = button.getBoundingClientRect(); return [r.top, r.bottom, window.innerHeight];""")
    assert 0 <= bar[0] and bar[1] <= bar[2], f"the role labels scrolled away: {bar}"
    shot(browser, "labelstudio-labeling-scrolled.png")

    # a one-region correction through the UI: the first claim becomes analysis
    corrected = next(i for i, p in enumerate(long_doc.passages) if p.label == "claim")
    spans = browser.find_elements(By.CSS_SELECTOR, ".htx-highlight[data-label$=':claim']")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", spans[0])
    assert spans[0].text == long_doc.text[long_doc.passages[corrected].start:long_doc.passages[corrected].end]
    spans[0].click()
    wait_for(browser, lambda d: d.find_elements(By.CSS_SELECTOR, ".htx-highlight.__active"), "the selected region")
    analysis = next(b for b in browser.find_elements(By.CSS_SELECTOR, ".lsf-label") if b.text.startswith("analysis"))
    analysis.click()
    wait_for(browser, lambda d: len(d.find_elements(By.CSS_SELECTOR, ".htx-highlight[data-label$=':claim']"))
             == len(spans) - 1, "the relabelled passage")
    submit = next(b for b in browser.find_elements(By.TAG_NAME, "button") if b.text.strip() == "Submit")
    submit.click()
    task_id = next(t["id"] for t in ls_client.iter_tasks(project) if t["data"]["doc_id"] == "long-article")
    wait_for(browser, lambda d: ls_client.request("GET", f"/api/tasks/{task_id}/annotations/"), "the submitted annotation")

    report = pull_corrections(ls_client, str(project), tmp_path / "corrected.jsonl")
    assert report.written == 1 and not report.rejected, report.rejected
    (pulled,) = read_documents(tmp_path / "corrected.jsonl")
    assert pulled.doc_id == "long-article"
    expected = [p.label for p in long_doc.passages]
    expected[corrected] = "analysis"
    assert [p.label for p in pulled.passages] == expected
    mentions = [(s.start, s.end, s.type) for p in pulled.passages for s in p.sources]
    assert mentions == [(s.start, s.end, s.type) for p in long_doc.passages for s in p.sources]
    assert "other" in {t for _, _, t in mentions}, "other_source comes back as the guide's id"
    print(f"browser test: {time.time() - started:.0f} s")
