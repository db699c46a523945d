"""The Korean edition as a learner sees it: a Korean notebook in a Korean JupyterLab, in a real Chromium.

The Korean notebook is built here (tools/i18n.py) from the first course notebook that shows a widget
and whose catalog in ``locale/ko/notebooks/`` is ready; JupyterLab starts as ``make lab-ko`` starts
it, with the settings override ``locale/ko/jupyterlab/overrides.json`` that selects the Korean language
pack. The test runs the cells down to the first widget (Shift+Enter, as a learner does; running every
cell of every widget notebook is tests/test_browser.py's job), then checks that

- the menus are Korean (the language pack is selected);
- no cell shows an error and no figure warned of a missing glyph;
- the markdown is Korean and every Hangul character on the screen (text, menus, widget labels) is
  drawn by a real font: no missing-glyph boxes (:data:`browser_support.MISSING_GLYPHS_JS`);
- a widget renders and moving it redraws its figure, and the notebook's figures are images that loaded.

Where the machine has no Korean font (``fc-list :lang=ko`` empty), Chromium gets the NanumGothic that
koreanize-matplotlib ships, through a private fontconfig file (docs/testing.md). A control test shows
that the glyph check fails when Chromium has no Korean font. Skipped, with the reason, without
Chromium, Playwright, the language pack or a ready catalog. Knob: ``COURSEKIT_BROWSER_KO_LOCALE`` (a
``locale/`` folder to take the catalogs from, for trying translations that are not committed yet).
"""
from __future__ import annotations

import contextlib
import os
import re
import sys
import time
from pathlib import Path

import pytest
from browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    MISSING_GLYPHS_JS,
    ROOT,
    JupyterLab,
    copy_notebooks,
    fontconfig_file,
    is_widget_cell,
    korean_font_environment,
    missing_requirements,
    packaged_korean_font_dir,
    widget_notebooks,
)

pytestmark = pytest.mark.browser

sys.path.insert(0, str(ROOT / "tools"))
import i18n  # noqa: E402

LOCALE = Path(os.environ.get("COURSEKIT_BROWSER_KO_LOCALE", ROOT / "locale")).resolve()
KO_SETTINGS = ROOT / "locale" / "ko" / "jupyterlab"   # what `make lab-ko` passes as app_settings_dir
ARTIFACTS = ROOT / "artifacts" / "browser"
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
RUN_ALL_TIMEOUT = float(os.environ.get("COURSEKIT_BROWSER_TIMEOUT", "240"))
HANGUL = re.compile(r"[\uac00-\ud7a3]")
GLYPH_WARNING = re.compile(r"Glyph \d+ .*missing from|missing from font", re.I)


class KoreanLab:
    """What the test needs: the server, the Korean notebook it serves, Chromium's environment, the font."""

    def __init__(self, lab: JupyterLab, notebook: Path, env: dict[str, str], font: str) -> None:
        self.lab, self.notebook, self.env, self.font = lab, notebook, env, font

    def __repr__(self) -> str:  # tracebacks show it: not the whole environment
        return f"KoreanLab({self.notebook.name}, {self.font})"


def _ready_korean_notebook() -> Path | None:
    """The first course notebook with a widget whose Korean catalog is complete and current."""
    for nb in widget_notebooks(ROOT / "notebooks"):
        po = i18n.load_catalog(nb, "ko", LOCALE)
        if po is not None and not i18n.problems(nb, po, "ko", LOCALE):
            return nb
    return None


def _language_pack() -> bool:
    from importlib import metadata

    return "ko_KR" in {e.name for e in metadata.entry_points(group="jupyterlab.languagepack")}


@pytest.fixture(scope="module")
def korean(tmp_path_factory):
    """(JupyterLab on one built Korean notebook, outputs cleared, the Chromium environment, the font)."""
    reason = missing_requirements()
    if reason:
        pytest.skip(reason)
    if not _language_pack():
        pytest.skip("JupyterLab's Korean language pack is not installed: pip install -e '.[ko]' (make test does)")
    source = _ready_korean_notebook()
    if source is None:
        pytest.skip(f"no notebook with a widget has a complete Korean catalog in {LOCALE}/ko/notebooks/ yet "
                    "(python tools/i18n.py check lists what is missing)")
    tmp = tmp_path_factory.mktemp("browser-ko")
    env, font = korean_font_environment(tmp / "fonts")
    if env is None:
        pytest.skip(font)
    built, _ = i18n.build_notebook(source, i18n.load_catalog(source, "ko", LOCALE), "ko", locale=LOCALE)
    (tmp / "built").mkdir()
    i18n._write(built, tmp / "built" / source.name)
    root = copy_notebooks(tmp / "built", tmp / "ko")
    server = JupyterLab(root, tmp / "jupyter-home", extra_args=[f"--LabApp.app_settings_dir={KO_SETTINGS}"])
    with server:
        yield KoreanLab(server, root / source.name, env, font)


def _launch(p, env):
    return p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS, env=env)


def _wait_idle(page, lab, timeout=120.0):
    """Until the kernel is idle; the status bar speaks Korean, so ask the server and the indicator."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        accept = page.locator(".jp-Dialog .jp-mod-accept")
        if accept.count() and accept.first.is_visible():
            accept.first.click()
        kernels = lab.kernels()
        status = page.evaluate("() => document.querySelector('.jp-Notebook-ExecutionIndicator')"
                               "?.getAttribute('data-status')")
        if kernels and all(k["execution_state"] == "idle" for k in kernels) and status == "idle":
            return
        page.wait_for_timeout(500)
    raise AssertionError(f"the kernel was not ready within {timeout:.0f} s\n{lab.log_tail()}")


_STATE_JS = """() => {
  const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
  const prompts = [...panel.querySelectorAll('.jp-CodeCell .jp-InputPrompt')].map(e => e.textContent.trim());
  const stderr = [...panel.querySelectorAll('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
      .map(e => e.textContent);
  const outputs = [...panel.querySelectorAll('.jp-OutputArea-output')].map(e => e.textContent);
  return {prompts, stderr, outputs};
}"""
ERROR_TEXT = re.compile(r"Traceback|\b\w*(Error|Exception)\b")


def _run_through(page, lab, n_cells: int, n_code: int) -> dict:
    """Run the first ``n_cells`` cells as a learner does, Shift+Enter from the top (keys need no menu
    labels, which are Korean); return the page's state once the first ``n_code`` code cells have run."""
    page.locator(f"{PANEL} .jp-Cell").first.click()
    page.keyboard.press("Escape")
    for _ in range(n_cells):
        page.keyboard.press("Shift+Enter")
        page.wait_for_timeout(50)
    start = time.monotonic()
    while True:
        page.wait_for_timeout(500)
        state = page.evaluate(_STATE_JS)
        numbered = [p for p in state["prompts"][:n_code] if re.fullmatch(r"\[\d+\]:", p)]
        running = any("*" in p for p in state["prompts"])
        idle = all(k["execution_state"] == "idle" for k in lab.kernels())
        errors = [t for t in state["stderr"] if ERROR_TEXT.search(t)]
        if idle and not running and (len(numbered) == n_code or errors):
            return state
        if time.monotonic() - start > RUN_ALL_TIMEOUT:
            raise AssertionError(f"the cells did not run in {RUN_ALL_TIMEOUT:.0f} s: {state['prompts']}")


def test_a_korean_notebook_renders_in_a_korean_jupyterlab(korean, capsys):
    import nbformat
    from playwright.sync_api import sync_playwright

    lab, notebook, env, font = korean.lab, korean.notebook, korean.env, korean.font
    nb = nbformat.read(notebook, as_version=4)
    # the cells up to the first widget (it needs what they define); the rest is the English test's job
    first = next(i for i, c in enumerate(nb.cells) if is_widget_cell(c))
    n_code = sum(c.cell_type == "code" for c in nb.cells[:first + 1])
    start = time.monotonic()
    with sync_playwright() as p:
        browser = _launch(p, env)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        try:
            page.goto(lab.lab_url(notebook.name))
            page.locator(f"{PANEL} .jp-Notebook").first.wait_for(timeout=120_000)
            _wait_idle(page, lab)

            menus = page.locator(".lm-MenuBar-itemLabel").all_text_contents()
            assert sum(bool(HANGUL.search(m)) for m in menus) >= 3, f"JupyterLab's menus are not Korean: {menus}"

            state = _run_through(page, lab, first + 1, n_code)
            errors = [t[-1500:] for t in state["stderr"] if ERROR_TEXT.search(t)]
            assert not errors, f"{notebook.name} (Korean): a cell shows an error:\n" + "\n---\n".join(errors)
            warned = [t[:300] for t in state["outputs"] if GLYPH_WARNING.search(t)]
            assert not warned, f"a figure is missing glyphs: {warned}"

            markdown = page.locator(f"{PANEL} .jp-MarkdownCell .jp-RenderedMarkdown")
            korean_cells = sum(bool(HANGUL.search(t)) for t in markdown.all_text_contents())
            assert korean_cells >= 0.8 * markdown.count(), (
                f"only {korean_cells} of {markdown.count()} rendered markdown cells hold Korean")

            # a widget: it renders, and moving it redraws its figure
            cell = page.locator(f"{PANEL} .jp-CodeCell").filter(
                has=page.locator(".widget-slider, .widget-dropdown")).first
            cell.scroll_into_view_if_needed()
            before = cell.locator(".jp-OutputArea img").evaluate_all("els => els.map(e => e.src)")
            assert before, "no figure under the first widget"
            slider = cell.locator(".widget-slider .noUi-handle")
            if slider.count():
                slider.first.focus()
                page.keyboard.press("ArrowRight" if float(slider.first.get_attribute("aria-valuenow")) < float(
                    slider.first.get_attribute("aria-valuemax")) else "ArrowLeft")
            else:
                select = cell.locator(".widget-dropdown select").first
                other = [o for o in select.locator("option").evaluate_all("els => els.map(e => e.value)")
                         if o != select.input_value()]
                select.select_option(other[0])
            deadline = time.monotonic() + 30
            while cell.locator(".jp-OutputArea img").evaluate_all("els => els.map(e => e.src)") in ([], before):
                assert time.monotonic() < deadline, "moving the widget did not redraw its figure within 30 s"
                page.wait_for_timeout(250)

            # the figures are images that loaded
            sizes = page.locator(f"{PANEL} .jp-OutputArea img").evaluate_all(
                "els => els.map(e => [e.complete, e.naturalWidth])")
            assert sizes and all(done and width > 0 for done, width in sizes), f"a figure did not load: {sizes}"

            # every Hangul character on screen is drawn by a font, in the notebook and in the menus
            page.evaluate("() => document.querySelectorAll('.jp-Cell').forEach(c => c.scrollIntoView())")
            glyphs = page.evaluate(MISSING_GLYPHS_JS, f"{PANEL} *, .lm-MenuBar *")
            assert glyphs["checked"] > 100, f"too few Hangul characters on screen to check: {glyphs}"
            assert not glyphs["missing"], f"missing glyphs (boxes): {glyphs['missing'][:20]}"

            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.evaluate("() => document.querySelector('.jp-MarkdownCell').scrollIntoView()")
            shot = ARTIFACTS / f"ko-{notebook.stem}.png"
            page.screenshot(path=str(shot))
            with capsys.disabled():
                print(f"\nbrowser (Korean): {notebook.name}: {korean_cells}/{markdown.count()} markdown cells "
                      f"Korean, {glyphs['checked']} Hangul characters drawn in {len(glyphs['fonts'])} font "
                      f"setting(s) with none missing ({font}); widget redrawn; {time.monotonic() - start:.0f} s; "
                      f"screenshot {shot.relative_to(ROOT)}")
        except BaseException:
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            with contextlib.suppress(Exception):
                page.screenshot(path=str(ARTIFACTS / f"ko-{notebook.stem}-FAILED.png"))
            raise
        finally:
            browser.close()
            lab.shutdown_kernels()


def test_the_glyph_check_finds_boxes_when_chromium_has_no_korean_font(tmp_path):
    """The control: the same check on a page of Korean text, with only DejaVu (no Hangul) and with a Korean font."""
    reason = missing_requirements()
    if reason:
        pytest.skip(reason)
    dejavu = Path("/usr/share/fonts/truetype/dejavu")
    if not dejavu.is_dir():
        pytest.skip("the control needs Debian's DejaVu fonts (/usr/share/fonts/truetype/dejavu)")
    from playwright.sync_api import sync_playwright

    env, font = korean_font_environment(tmp_path / "ko")
    if env is None:
        pytest.skip(font)
    without = dict(os.environ, FONTCONFIG_FILE=str(fontconfig_file(tmp_path / "none", [dejavu], include_system=False)))
    html = "<p style='font-family: system-ui, sans-serif'>기울기 소실과 활성화 함수 <b>배치 정규화</b></p>"
    found = {}
    with sync_playwright() as p:
        for name, environment in (("without", without), ("with", env)):
            browser = _launch(p, environment)
            try:
                page = browser.new_page()
                page.set_content(html)
                found[name] = page.evaluate(MISSING_GLYPHS_JS, "p, b")
            finally:
                browser.close()
    assert found["without"]["missing"] and len(found["without"]["missing"]) == found["without"]["checked"], found
    assert found["with"]["checked"] == found["without"]["checked"] and not found["with"]["missing"], (font, found)
    if packaged_korean_font_dir() is not None:  # and the packaged font alone is enough
        only = dict(os.environ, FONTCONFIG_FILE=str(fontconfig_file(tmp_path / "pkg", [dejavu, packaged_korean_font_dir()],
                                                                     include_system=False)))
        with sync_playwright() as p:
            browser = _launch(p, only)
            try:
                page = browser.new_page()
                page.set_content(html)
                assert not page.evaluate(MISSING_GLYPHS_JS, "p, b")["missing"]
            finally:
                browser.close()

