"""An annotator in the real Label Studio labeling view: Playwright (PyPI) driving Debian's chromium.

No `playwright install`: the browser is /usr/bin/chromium (installed by scripts/test.sh with apt).
Selectors and timings follow the measurements on Label Studio 1.23.2 (see docs/maintainers.md).
"""

from __future__ import annotations

import json
import os
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = os.environ.get("NEWSNER_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TEXT = ".lsf-richtext__container"
SUBMIT = '[data-testid="bottombar-submit-button"]'
UPDATE = '[data-testid="bottombar-update-button"]'  # on an existing annotation; disabled until it changes

# the client rectangles of the first and last character of `needle` in the sentence's text nodes
_RECTS_JS = """([needle, occurrence]) => {
  const root = document.querySelector('.lsf-richtext__container');
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const nodes = []; let text = '';
  while (walker.nextNode()) { nodes.push([walker.currentNode, text.length]); text += walker.currentNode.data; }
  let at = -1;
  for (let k = 0; k <= occurrence; k++) { at = text.indexOf(needle, at + 1); if (at < 0) return null; }
  const locate = (i) => {
    for (const [node, offset] of nodes) { if (i < offset + node.data.length) return [node, i - offset]; }
    return null;
  };
  const rect = (i) => {
    const [node, k] = locate(i); const r = document.createRange(); r.setStart(node, k); r.setEnd(node, k + 1);
    const b = r.getBoundingClientRect(); return {x: b.x, y: b.y, w: b.width, h: b.height};
  };
  return {first: rect(at), last: rect(at + needle.length - 1)};
}"""


@dataclass
class Annotator:
    """One person's browser session (own profile, own cookies)."""

    page: Any
    base: str
    email: str
    shots: Path | None = None

    def login(self, password: str) -> None:
        self.page.goto(f"{self.base}/user/login/")
        self.page.fill("#email", self.email)
        self.page.fill("#password", password)
        with self.page.expect_navigation():
            self.page.click("button.login-button")
        if "/user/login" in self.page.url:
            raise AssertionError(f"login of {self.email} failed")

    def open_task(self, project_id: int, task_id: int) -> None:
        """Open a task from the data manager, as a click in the task list does."""
        self.page.goto(f"{self.base}/projects/{project_id}/data?task={task_id}")
        self.page.wait_for_selector(f"{TEXT} .lsf-richtext__line", timeout=30_000)
        self.page.wait_for_selector(f"{SUBMIT}, {UPDATE}", timeout=30_000)
        self.close_instructions()
        self.page.wait_for_timeout(500)  # pre-labels render after the text

    def close_instructions(self) -> None:
        close = self.page.locator("button[aria-label='Close modal']")
        if close.count():
            close.first.click()

    def shot(self, name: str) -> None:
        if self.shots is not None:
            self.shots.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(self.shots / f"{name}.png"))

    def regions(self) -> list[str]:
        """The labels of the regions shown on the text, by their `data-label` (`index:LABEL`)."""
        return self.page.eval_on_selector_all(
            f"{TEXT} .htx-highlight[data-label]", "els => els.map(e => e.dataset.label.split(':').pop())"
        )

    def _wait_labels_idle(self) -> None:
        self.page.wait_for_function(
            "document.querySelectorAll('.lsf-label.lsf-label_selected').length === 0", timeout=10_000
        )

    def choose_label(self, label: str, *, hotkey: str | None = None) -> None:
        """Select a label by clicking it, or by its hotkey (1–4)."""
        self._wait_labels_idle()
        if hotkey:
            self.page.keyboard.press(hotkey)
        else:
            self.page.locator(".lsf-label", has_text=label).first.click()
        self.page.locator(".lsf-label.lsf-label_selected", has_text=label).wait_for(timeout=5_000)

    def drag(self, needle: str, occurrence: int = 0) -> None:
        """Select `needle` with a real mouse drag from its first to its last character."""
        before = len(self.regions())
        rects = self.page.evaluate(_RECTS_JS, [needle, occurrence])
        if rects is None:
            raise AssertionError(f"{needle!r} is not in the text on screen")
        first, last = rects["first"], rects["last"]
        y = first["y"] + first["h"] / 2
        self.page.mouse.move(first["x"] + 0.5, y)
        self.page.mouse.down()
        self.page.mouse.move(last["x"] + last["w"] - 0.5, last["y"] + last["h"] / 2, steps=8)
        self.page.mouse.up()
        self.page.wait_for_function(
            f"document.querySelectorAll('{TEXT} .htx-highlight[data-label]').length > {before}", timeout=10_000
        )
        self._wait_labels_idle()

    def relabel(self, needle: str, label: str) -> None:
        """Click an existing region, then the new label: the region takes it."""
        rects = self.page.evaluate(_RECTS_JS, [needle, 0])
        middle = rects["first"]
        self.page.mouse.click(middle["x"] + middle["w"] / 2, middle["y"] + middle["h"] / 2)
        self.page.wait_for_timeout(300)
        self.page.locator(".lsf-label", has_text=label).first.click()
        self.page.wait_for_timeout(300)
        self.page.keyboard.press("Escape")  # deselect the region
        self.page.wait_for_timeout(300)

    def delete_region(self, needle: str) -> None:
        """Click a region and delete it with Backspace."""
        before = len(self.regions())
        rects = self.page.evaluate(_RECTS_JS, [needle, 0])
        middle = rects["first"]
        self.page.mouse.click(middle["x"] + middle["w"] / 2, middle["y"] + middle["h"] / 2)
        self.page.wait_for_timeout(300)
        self.page.keyboard.press("Backspace")
        self.page.wait_for_function(
            f"document.querySelectorAll('{TEXT} .htx-highlight[data-label]').length < {before}", timeout=10_000
        )

    def new_annotation(self) -> None:
        """Press "+" (create an annotation) in the annotation tabs."""
        self.page.click("[aria-label='Create an annotation']")
        self.page.wait_for_timeout(800)

    def tabs(self) -> list[str]:
        """The names on the annotation and prediction tabs (as shown, Label Studio shortens long ones)."""
        return self.page.eval_on_selector_all(
            ".lsf-annotation-button .lsf-annotation-button__name", "els => els.map(e => e.innerText.trim())"
        )

    def duplicate_version(self, shown: str) -> None:
        """Open the tab whose name contains `shown` and choose ⋮ → Duplicate Annotation (start from that version)."""
        tab = self.page.locator(".lsf-annotation-button", has_text=shown).first
        tab.click()
        self.page.wait_for_timeout(400)
        tab.locator(".lsf-annotation-button__trigger").click()
        self.page.get_by_text("Duplicate Annotation").click()
        self.page.wait_for_function(
            "document.querySelector('.lsf-annotation-button_selected') !== null", timeout=10_000
        )
        self.page.wait_for_timeout(500)

    def submit(self) -> dict[str, Any]:
        """Press Submit; return the annotation as the server stored it (HTTP 201)."""
        with self.page.expect_response(lambda r: "/annotations" in r.url and r.request.method == "POST") as response:
            self.page.click(SUBMIT)
        if response.value.status != 201:
            raise AssertionError(f"submit answered HTTP {response.value.status}")
        return response.value.json()

    def update(self) -> tuple[int, dict[str, Any]]:
        """Press Update on an existing annotation; return (HTTP status, the PATCH body sent)."""
        with self.page.expect_response(
            lambda r: "/api/annotations/" in r.url and r.request.method == "PATCH"
        ) as response:
            self.page.click(f"{UPDATE}:not([disabled])")
        return response.value.status, json.loads(response.value.request.post_data or "{}")


class Browser:
    """Launches one Chromium profile per annotator and closes them all."""

    def __init__(self, base: str, profiles: Path, shots: Path | None = None):
        from playwright.sync_api import sync_playwright

        self.base, self.profiles, self.shots = base, profiles, shots
        self._manager = sync_playwright()
        self._pw = self._manager.start()
        self._contexts: list[Any] = []

    def annotator(self, email: str, password: str) -> Annotator:
        profile = self.profiles / f"profile-{len(self._contexts)}-{time.monotonic_ns()}"
        context = self._pw.chromium.launch_persistent_context(
            str(profile), executable_path=CHROMIUM, headless=True, args=FLAGS, viewport={"width": 1400, "height": 900}
        )
        self._contexts.append(context)
        page = context.pages[0] if context.pages else context.new_page()
        person = Annotator(page=page, base=self.base, email=email, shots=self.shots)
        person.login(password)
        return person

    def close(self) -> None:
        for context in self._contexts:
            context.close()
        self._manager.__exit__(None, None, None)
