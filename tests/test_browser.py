"""The notebooks as a learner sees them: JupyterLab in a real Chromium, widgets driven by a test.

Unit tests prove the widget callbacks' arithmetic; this proves that a learner who
opens a notebook in JupyterLab sees its widgets, can move them, and sees the
figure change. For every notebook in ``notebooks/`` that shows a widget (a code
cell tagged ``nbval-ignore-output`` that calls ``interactive_figure`` or builds
ipywidgets), the test

1. starts JupyterLab from this environment on 127.0.0.1 (random free port,
   random token, settings/workspaces/config/runtime/data in a temporary folder)
   on a temporary copy of ``notebooks/`` with outputs cleared, and always stops it;
2. opens the notebook and runs *Run → Run All Cells* from JupyterLab's menu bar,
   then waits until every code cell has run and the kernel is idle;
3. checks that no cell shows an error, that every widget cell renders a slider
   or a drop-down, moves the first slider three times with the keyboard (arrow
   keys on the focused handle: one step, back, and again) and picks another
   option of the first drop-down, and checks after each move that the figure
   beneath changes (its PNG data differ);
4. prints, for the record (never asserted), how long each action took to show a
   new figure in the page (kernel round trip included), and saves a screenshot
   of each widget after the interaction in
   ``artifacts/browser/<notebook>-widget<k>.png`` and prints that path.

Run it alone with ``make browser-test`` (or ``pytest -m browser``); leave it out
with ``-m "not browser"``. It needs Chromium at ``/usr/bin/chromium``
(``apt-get install -y chromium``) and Playwright's Python package (in the
``test`` extras); without them it is skipped with the install command. Never
run ``playwright install``: the test drives the system Chromium.

Environment knobs (for development): ``COURSEKIT_BROWSER_NOTEBOOKS`` (a folder
of notebooks to use instead of ``notebooks/``), ``COURSEKIT_BROWSER_TIMEOUT``
(seconds per notebook for Run All, default 240), ``COURSEKIT_CHROMIUM``.
"""
from __future__ import annotations

import contextlib
import os
import re
import time
from pathlib import Path

import pytest
from browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    ROOT,
    JupyterLab,
    copy_notebooks,
    missing_requirements,
    widget_cell_count,
    widget_notebooks,
)

pytestmark = pytest.mark.browser

NOTEBOOKS_DIR = Path(os.environ.get("COURSEKIT_BROWSER_NOTEBOOKS", ROOT / "notebooks")).resolve()
ARTIFACTS = ROOT / "artifacts" / "browser"
RUN_ALL_TIMEOUT = float(os.environ.get("COURSEKIT_BROWSER_TIMEOUT", "240"))
FIGURE_TIMEOUT_MS = 30_000
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook shown in the main area
VIEWPORT = {"width": 1280, "height": 800}

NOTEBOOKS = widget_notebooks(NOTEBOOKS_DIR) if NOTEBOOKS_DIR.is_dir() else []

# What a failed cell looks like on screen: JupyterLab renders tracebacks and
# stderr as application/vnd.jupyter.stderr; a widget that cannot render says so.
ERROR_TEXT = re.compile(r"Traceback|\b\w*(Error|Exception)\b")
_STATE_JS = """() => {
  const prompts = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell .jp-InputPrompt')]
      .map(e => e.textContent.trim());
  const stderr = [...document.querySelectorAll(
      '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]')]
      .map(e => e.textContent);
  const broken = [...document.querySelectorAll('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-OutputArea-output')]
      .map(e => e.textContent).filter(t => /Error displaying widget|Failed to load model class/.test(t));
  const indicator = document.querySelector('.jp-Notebook-ExecutionIndicator');
  return {prompts, stderr, broken, status: indicator ? indicator.getAttribute('data-status') : null};
}"""


def _rel(path: Path) -> str:
    try:
        return str(path.relative_to(ROOT))
    except ValueError:
        return str(path)


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a temporary, output-free copy of the notebooks; stopped whatever happens."""
    reason = missing_requirements()
    if reason:
        pytest.skip(reason)
    tmp = tmp_path_factory.mktemp("browser")
    root = copy_notebooks(NOTEBOOKS_DIR, tmp / "notebooks")
    server = JupyterLab(root, tmp / "jupyter-home")
    with server:
        yield server


@pytest.fixture(scope="module")
def browser(lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _notebook_state(page) -> dict:
    return page.evaluate(_STATE_JS)


def _errors(state: dict) -> list[str]:
    return [t.strip()[-1500:] for t in state["stderr"] if ERROR_TEXT.search(t)] + state["broken"]


def _wait_kernel_ready(page, lab: JupyterLab, timeout: float = 120.0) -> None:
    """Until the status bar says the notebook's kernel is Idle (not Initializing, not Connecting).

    A notebook without kernel metadata makes JupyterLab ask which kernel to
    start; the test answers as a learner would, with the proposed default.
    """
    status = page.locator(".jp-StatusBar-TextItem", has_text=re.compile(r"\| \w+$")).first
    dialog_accept = page.locator(".jp-Dialog .jp-mod-accept")
    deadline = time.monotonic() + timeout
    text = ""
    while time.monotonic() < deadline:
        if dialog_accept.count() and dialog_accept.first.is_visible():
            dialog_accept.first.click()
        text = status.text_content() if status.count() else ""
        if text.endswith("| Idle"):
            kernels = lab.kernels()
            if kernels and all(k["execution_state"] == "idle" for k in kernels):
                return
        page.wait_for_timeout(500)
    raise AssertionError(f"the kernel was not ready within {timeout:.0f} s (status bar: {text!r})\n"
                         f"{lab.log_tail()}")


def _click_run_all(page) -> None:
    page.locator(f"{PANEL} .jp-CodeCell .jp-InputPrompt").first.click()  # the notebook is the current widget
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item:not(.lm-mod-disabled)").filter(
        has=page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$"))).click()


def _run_all_and_wait(page, lab: JupyterLab, n_code_cells: int, timeout: float) -> dict:
    """Run → Run All Cells from the menu bar; return the state once every cell ran and the kernel is idle."""
    _click_run_all(page)
    start = time.monotonic()
    deadline = start + timeout
    started = False
    while True:
        state = _notebook_state(page)
        numbered = [p for p in state["prompts"] if re.fullmatch(r"\[\d+\]:", p)]
        running = any("*" in p for p in state["prompts"])
        idle = state["status"] == "idle" and all(k["execution_state"] == "idle" for k in lab.kernels())
        started = started or running or bool(numbered)
        # done: every cell ran, or Run All stopped at a failing cell (what follows stays unrun)
        finished = len(numbered) == n_code_cells or state["stderr"] or state["broken"]
        if started and idle and not running and finished:
            return state
        if not started and time.monotonic() - start > 30:
            raise AssertionError(f"Run All Cells did not start a run within 30 s: prompts {state['prompts']}")
        if time.monotonic() > deadline:
            raise AssertionError(
                f"Run All did not finish in {timeout:.0f} s: prompts {state['prompts']}, "
                f"kernel {state['status']}\n{lab.log_tail()}"
            )
        page.wait_for_timeout(500)


def _figure_sources(cell) -> list[str]:
    return cell.locator(".jp-OutputArea img").evaluate_all("els => els.map(e => e.src)")


def _expect_figure_change(page, cell, before: list[str], what: str) -> list[str]:
    deadline = time.monotonic() + FIGURE_TIMEOUT_MS / 1000
    while time.monotonic() < deadline:
        page.wait_for_timeout(250)
        after = _figure_sources(cell)
        if after and after != before:
            return after
    raise AssertionError(f"{what}: the figure beneath the widget did not change within "
                         f"{FIGURE_TIMEOUT_MS / 1000:.0f} s (the callback failed or did not redraw)")


# Times, in the page, from the learner's action (a key press on the slider, a change of the
# drop-down) to the moment the figure's <img> is replaced: the latency a learner sees, kernel
# round trip included. Printed for the record, never asserted (shared machines are noisy).
_WATCH_REDRAW_JS = """(cell) => {
  const sources = () => [...cell.querySelectorAll('.jp-OutputArea img')].map(i => i.src).join('|');
  const w = {t0: null, t1: null, before: sources()};
  window.__ckRedraw = w;
  const start = () => { if (w.t0 === null) w.t0 = performance.now(); };
  cell.addEventListener('keydown', start, {capture: true, once: true});
  cell.addEventListener('change', start, {capture: true, once: true});
  const obs = new MutationObserver(() => {
    if (w.t0 !== null && w.t1 === null && sources() && sources() !== w.before) {
      w.t1 = performance.now();
      obs.disconnect();
    }
  });
  obs.observe(cell, {subtree: true, childList: true, attributes: true, attributeFilter: ['src']});
}"""


def _redraw_ms(page) -> float | None:
    w = page.evaluate("() => window.__ckRedraw || null")
    if not w or w.get("t0") is None or w.get("t1") is None:
        return None
    return float(w["t1"] - w["t0"])


def _move_slider(page, cell, name: str, moves: int = 3) -> float | None:
    """Move the first slider ``moves`` times (one step away and back); the median latency."""
    handle = cell.locator(".widget-slider .noUi-handle").first
    handle.scroll_into_view_if_needed()
    now = float(handle.get_attribute("aria-valuenow"))
    top = float(handle.get_attribute("aria-valuemax"))
    keys = ["ArrowRight", "ArrowLeft"] if now < top else ["ArrowLeft", "ArrowRight"]
    times = []
    for i in range(moves):
        value = float(handle.get_attribute("aria-valuenow"))
        before = _figure_sources(cell)
        handle.focus()
        cell.evaluate(_WATCH_REDRAW_JS)
        page.keyboard.press(keys[i % 2])
        _expect_figure_change(page, cell, before, f"{name}: slider moved from {value:g}")
        moved = float(handle.get_attribute("aria-valuenow"))
        assert moved != value, f"{name}: the slider did not move with the keyboard (still {value:g})"
        times.append(_redraw_ms(page))
    times = sorted(t for t in times if t is not None)
    return times[len(times) // 2] if times else None


def _pick_dropdown(page, cell, name: str, moves: int = 3) -> float | None:
    """Change the first drop-down ``moves`` times (to the next option and back); the median latency."""
    select = cell.locator(".widget-dropdown select").first
    select.scroll_into_view_if_needed()
    options = select.locator("option").evaluate_all("els => els.map(e => e.value)")
    start = select.input_value()
    others = [o for o in options if o != start]
    if not others:
        return None  # a one-option drop-down cannot change anything
    times = []
    for i in range(moves):
        current, target = (start, others[0]) if i % 2 == 0 else (others[0], start)
        before = _figure_sources(cell)
        cell.evaluate(_WATCH_REDRAW_JS)
        select.select_option(target)
        _expect_figure_change(page, cell, before, f"{name}: drop-down changed from {current!r} to {target!r}")
        times.append(_redraw_ms(page))
    times = sorted(t for t in times if t is not None)
    return times[len(times) // 2] if times else None


@pytest.mark.parametrize(
    "notebook",
    NOTEBOOKS or [pytest.param(None, marks=pytest.mark.skip(
        reason=f"no notebook with a widget (an nbval-ignore-output cell calling interactive_figure) "
               f"in {_rel(NOTEBOOKS_DIR)}"))],
    ids=[p.stem for p in NOTEBOOKS] or ["no-widget-notebooks"],
)
def test_widgets_render_and_redraw_in_jupyterlab(notebook: Path, lab: JupyterLab, browser, capsys):
    import nbformat

    opened = Path(lab.root_dir) / notebook.relative_to(NOTEBOOKS_DIR)  # the copy JupyterLab serves
    nb = nbformat.read(opened, as_version=4)
    n_code = sum(c.cell_type == "code" for c in nb.cells)
    n_widgets = widget_cell_count(opened)
    for old in ARTIFACTS.glob(f"{notebook.stem}-*.png"):
        old.unlink()  # screenshots of an earlier run must not pass for this one's
    start = time.monotonic()
    context = browser.new_context(viewport=VIEWPORT)
    page = context.new_page()
    console_errors: list[str] = []
    page.on("console", lambda m: console_errors.append(m.text[:300]) if m.type == "error" else None)
    try:
        page.goto(lab.lab_url(notebook.name))
        page.locator(f"{PANEL} .jp-Notebook").first.wait_for(timeout=120_000)
        _wait_kernel_ready(page, lab)

        # 2. Run All through the UI; every code cell runs, nothing shows an error.
        run_start = time.monotonic()
        state = _run_all_and_wait(page, lab, n_code, RUN_ALL_TIMEOUT)
        ran = time.monotonic() - run_start
        errors = _errors(state)
        assert not errors, f"{notebook.name}: a cell shows an error after Run All:\n" + "\n---\n".join(errors)
        unrun = [p for p in state["prompts"] if not re.fullmatch(r"\[\d+\]:", p)]
        assert not unrun, f"{notebook.name}: {len(unrun)} of {n_code} code cells did not run: {state['prompts']}"

        # 3. Each widget cell shows a slider or a drop-down; moving it redraws the figure.
        cells = page.locator(f"{PANEL} .jp-CodeCell").filter(
            has=page.locator(".widget-slider, .widget-dropdown"))
        assert cells.count() == n_widgets, (
            f"{notebook.name}: {n_widgets} widget cells in the notebook but {cells.count()} render a "
            f"slider or drop-down in JupyterLab (console errors: {console_errors[-5:]})"
        )
        shots, latencies = [], []
        for k in range(n_widgets):
            cell = cells.nth(k)
            name = f"{notebook.stem} widget {k + 1}"
            cell.scroll_into_view_if_needed()
            control = cell.locator(".widget-slider, .widget-dropdown select").first
            assert control.is_visible(), f"{name}: no visible slider or drop-down"
            assert _figure_sources(cell), f"{name}: no figure under the widget after Run All"
            has_slider = cell.locator(".widget-slider .noUi-handle").count() > 0
            has_dropdown = cell.locator(".widget-dropdown select").count() > 0
            if has_slider:
                latencies.append(("slider", _move_slider(page, cell, name)))
            if has_dropdown:
                latencies.append(("drop-down", _pick_dropdown(page, cell, name)))
            after = _notebook_state(page)
            errors = _errors(after)
            assert not errors, f"{name}: an error appeared after moving the widget:\n" + "\n---\n".join(errors)

            # 4. What a learner sees after the interaction.
            cell.evaluate("e => e.scrollIntoView({block: 'start'})")
            page.wait_for_timeout(300)
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            shot = ARTIFACTS / f"{notebook.stem}-widget{k + 1}.png"
            page.screenshot(path=str(shot))
            shots.append(_rel(shot))
        seen = ", ".join(f"{what} {ms:.0f} ms" for what, ms in latencies if ms is not None) or "not measured"
        seen += " (each the median of 3 moves)" if any(ms is not None for _, ms in latencies) else ""
        with capsys.disabled():
            print(f"\nbrowser: {notebook.name}: Run All {ran:.0f} s, {n_widgets} widget(s) moved and "
                  f"redrawn (action to new figure in the page: {seen}), total {time.monotonic() - start:.0f} s; "
                  f"screenshots: {', '.join(shots)}")
    except BaseException:
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        failed = ARTIFACTS / f"{notebook.stem}-FAILED.png"
        with contextlib.suppress(Exception):  # the original failure matters more
            page.screenshot(path=str(failed))
            with capsys.disabled():
                print(f"\nbrowser: {notebook.name} failed; what the page showed: {_rel(failed)}")
        raise
    finally:
        context.close()
        lab.shutdown_kernels()
