import functools
import os
import shutil
from pathlib import Path

import pytest

from tests.factories import PASSWORD

# Playwright's sync API runs an event loop in this thread; the test's own ORM calls are
# still synchronous and happen before or between browser steps.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


# The `browser` fixture (one Chromium per test process) is in tests/conftest.py.


def new_context(browser):
    """A fresh browser profile (one person), with axe-core loaded into every page it opens: an
    init script arrives through the debugging protocol, so the app's strict CSP (which rightly
    refuses inline scripts) stays as it is, and axe is not evaluated again on every check."""
    context = browser.new_context()
    context.set_default_timeout(10_000)
    context.add_init_script(path=str(AXE))
    return context


@pytest.fixture
def page(browser):
    context = new_context(browser)
    page = context.new_page()
    page.console_problems = []
    page.on(
        "console",
        lambda message: page.console_problems.append(message.text) if message.type == "error" else None,
    )
    yield page
    context.close()


# --- helpers shared by the journeys -------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "test-artifacts"
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


@pytest.fixture(scope="session", autouse=True)
def _fresh_axe_log():
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "axe-pages.txt").write_text("")


@pytest.fixture(autouse=True)
def _screenshot_folder(request):
    """Each test's screenshots land in their own folder, numbered in the order taken."""
    folder = ARTIFACTS / "screenshots" / request.node.name.replace("[", "-").replace("]", "")
    shutil.rmtree(folder, ignore_errors=True)
    _current.update(folder=folder, n=0)


_current = {"folder": ARTIFACTS / "screenshots" / "misc", "n": 0}


def shot(page, name: str) -> Path:
    """A full-page screenshot of the step the user just reached."""
    _current["n"] += 1
    path = _current["folder"] / f"{_current['n']:02d}-{name}.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, live_server, email: str, password: str = PASSWORD) -> None:
    page.goto(live_server.url + "/accounts/login/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/home/")


@functools.cache
def _axe_source() -> str:
    return AXE.read_text(encoding="utf-8") + "\n;undefined"


def check_axe(page) -> None:
    """axe-core at WCAG 2.1 A/AA on the page as shown: no violation is acceptable."""
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        # Through the debugging protocol, not a <script> tag: the app's strict CSP (rightly)
        # refuses inline scripts, and the test must not weaken it.
        page.evaluate(_axe_source())
    result = page.evaluate(
        "tags => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})",
        AXE_TAGS,
    )
    with (ARTIFACTS / "axe-pages.txt").open("a") as log:
        log.write(page.url + "\n")
    problems = [
        f"{v['id']} ({v['impact']}): {v['help']} — "
        + "; ".join(" ".join(map(str, node["target"])) for node in v["nodes"][:5])
        for v in result["violations"]
    ]
    for problem in problems:
        print(problem)
    assert not problems, f"axe on {page.url}:\n" + "\n".join(problems)
