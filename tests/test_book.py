"""The static book (tools/build_book.py) as a reader sees it: built once, then read in a real Chromium.

One session fixture builds two books into a temporary folder, from the committed notebooks, with no
re-execution: the English book from ``notebooks/`` and a Korean book from a small fixture notebook
with Korean text (``tests/fixtures/book_ko/``; the Korean edition's notebooks build the same way). The
site is served on 127.0.0.1 and every page is opened in Chromium (``/usr/bin/chromium`` driven by
Playwright; no browser is downloaded). The tests check:

- every page loads with no console error, no page error, no failed request, and no request to anything
  but the local server (every other request is blocked and reported);
- no broken internal link (files and ``#anchors``) and no image that fails to load;
- every chapter with a formula shows it rendered by MathJax (each ``span.math`` / ``div.math`` holds a
  ``mjx-container``), MathJax coming from the site itself;
- search finds "Xavier" in the English book, and in the Korean book terms that the text only has with
  a particle glued on (초기화는, 배치의, 도함수를: searched as 초기화, 배치, 도함수);
- at a phone's width (375 px) the text column does not scroll sideways;
- code cells have copy buttons; each chapter links its notebook, the command to run it, Binder
  (opening the student edition) and a hub's nbgitpuller link; widgets show their figure and a note;
- no solution reaches the book; each page links to its counterpart in the other language only when
  that counterpart exists; README's course table carries the same Binder links as the book.

Needs the ``[book]`` extra (Sphinx, MyST-NB, the book theme, copy buttons, sphinx-mathjax-offline) and
the browser test's requirements (tests/browser_support.py); skipped with the reason otherwise.
"""
from __future__ import annotations

import functools
import html
import http.server
import json
import re
import shutil
import sys
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlsplit

import nbformat
import pytest
from browser_support import CHROMIUM, missing_requirements

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
FIXTURE_KO = Path(__file__).parent / "fixtures" / "book_ko"
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
LAUNCH_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
               "--disable-component-update", "--disable-sync"]
REPO = "https://github.com/example-org/coursekit"
HUB = "https://hub.example.edu"

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def _missing_book_packages() -> str | None:
    import importlib.util
    missing = [name for name in ("sphinx", "myst_nb", "sphinx_book_theme", "sphinx_copybutton",
                                 "sphinx-mathjax-offline") if importlib.util.find_spec(name) is None]
    if missing:
        return f"the book needs {', '.join(missing)}: `.venv/bin/pip install -e '.[book]'`"
    return None


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    """Build the English book and the Korean fixture book side by side; yield their folder and URL."""
    why = missing_requirements() or _missing_book_packages()
    if why:
        pytest.skip(why)
    import build_book

    tmp = tmp_path_factory.mktemp("book")
    ko_src = tmp / "ko-notebooks"
    ko_src.mkdir()
    for path in FIXTURE_KO.glob("*.ipynb.json"):
        shutil.copy(path, ko_src / path.name.removesuffix(".json"))
    links = build_book.Links(repository=REPO, hub=HUB, binder_student_dir={"en": "student", "ko": "student/ko"})
    t0 = time.perf_counter()
    stats = build_book.build(["en", "ko"], {"en": ROOT / "notebooks", "ko": ko_src}, tmp / "site", tmp / "src",
                             links, log=lambda *a: None)
    print(f"\nbook built in {time.perf_counter() - t0:.0f} s: en {stats['en']['bytes'] / 2**20:.1f} MiB, "
          f"ko {stats['ko']['bytes'] / 2**20:.1f} MiB")
    site = tmp / "site"

    handler = functools.partial(_QuietHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"site": site, "url": f"http://127.0.0.1:{server.server_address[1]}", "stats": stats,
               "links": links, "ko_src": ko_src}
    finally:
        server.shutdown()
        server.server_close()


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # the test reports what matters
        pass


# Module scope, not session: Playwright's sync API allows one instance at a time in a process, so this
# one must close before tests/test_browser.py and tests/test_browser_ko.py start theirs.
@pytest.fixture(scope="module")
def browser(book):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


class Visit:
    """One page in a fresh context: console errors, page errors, failed and non-local requests."""

    def __init__(self, browser, base: str, path: str, width: int = 1280) -> None:
        self.base = base
        self.problems: list[str] = []
        self.context = browser.new_context(viewport={"width": width, "height": 900})
        self.page = self.context.new_page()
        self.context.route("**/*", self._route)
        self.page.on("console", lambda m: m.type == "error" and self.problems.append(f"console error: {m.text}"))
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))
        self.page.on("requestfailed", lambda r: self.problems.append(f"request failed: {r.url} ({r.failure})"))
        self.page.on("response", lambda r: r.status >= 400 and self.problems.append(f"HTTP {r.status}: {r.url}"))
        self.page.goto(base + path, wait_until="load")
        # MathJax typesets after load; wait for it where the page has it (and for copy buttons' script)
        self.page.wait_for_function(
            "() => !window.MathJax || !MathJax.startup || !MathJax.startup.promise ? true :"
            " MathJax.startup.promise.then(() => true)", timeout=30_000)
        self.page.wait_for_load_state("networkidle")

    def _route(self, route) -> None:
        url = route.request.url
        if url.startswith(self.base + "/") or url.startswith("data:") or url.startswith("blob:"):
            route.continue_()
        else:
            self.problems.append(f"request to a non-local URL: {url}")
            route.abort()

    def close(self) -> None:
        self.context.close()


def _pages(site: Path, lang: str) -> list[str]:
    return sorted(p.name for p in (site / lang).glob("*.html"))


def _local_target(site: Path, base: str, url: str) -> tuple[Path, str] | None:
    if not url.startswith(base + "/"):
        return None
    parts = urlsplit(url)
    path = site / unquote(parts.path).lstrip("/")
    if path.is_dir():
        path = path / "index.html"
    return path, unquote(parts.fragment)


def _ids(path: Path, cache: dict = {}) -> set[str]:  # noqa: B006 (a cache across calls)
    if path not in cache:
        text = path.read_text(encoding="utf-8", errors="replace")
        cache[path] = set(re.findall(r'\bid="([^"]+)"', text))
    return cache[path]


# -- every page, visited once ------------------------------------------------------------------------

_COLLECT = """() => {
    const math = [...document.querySelectorAll('span.math, div.math')];
    const col = document.querySelector('article.bd-article') || document.querySelector('main');
    return {
        hrefs: [...document.querySelectorAll('a[href]')].map(e => e.href),
        brokenImages: [...document.querySelectorAll('img')]
            .filter(e => !e.complete || e.naturalWidth === 0).map(e => e.src),
        math: math.length,
        mathRendered: math.filter(m => m.querySelector('mjx-container')).length,
        mathContainers: document.querySelectorAll('article mjx-container').length,
        mathjaxScripts: [...document.scripts].map(s => s.src).filter(s => /mathjax/i.test(s)),
        codeCells: document.querySelectorAll('div.cell_input').length,
        copyButtons: document.querySelectorAll('div.cell_input button.copybtn').length,
        outputCopyButtons: document.querySelectorAll('div.cell_output button.copybtn').length,
        toc: [...document.querySelectorAll('nav.bd-links a.reference.internal')].map(e => e.getAttribute('href')),
    };
}"""
_WIDTH = """() => {
    const col = document.querySelector('article.bd-article') || document.querySelector('main');
    return {doc: document.documentElement.scrollWidth, win: window.innerWidth,
            col: col.scrollWidth, colClient: col.clientWidth};
}"""


@pytest.fixture(scope="module")
def visited(book, browser):
    """Every page of both books, opened once at a desktop's width, then at a phone's (375 px)."""
    site, base = book["site"], book["url"]
    found = {}
    for lang in ("en", "ko"):
        for name in _pages(site, lang):
            visit = Visit(browser, base, f"/{lang}/{name}")
            try:
                info = visit.page.evaluate(_COLLECT)
                visit.page.set_viewport_size({"width": 375, "height": 800})
                visit.page.wait_for_timeout(150)
                info["phone"] = visit.page.evaluate(_WIDTH)
                info["problems"] = list(visit.problems)
            finally:
                visit.close()
            found[f"{lang}/{name}"] = info
    return found


def test_every_page_loads_clean_with_working_links_and_images(book, visited):
    """No console error, no remote request, no failed request, no broken link, anchor or image."""
    site, base = book["site"], book["url"]
    problems = []
    checked_links = 0
    for where, info in visited.items():
        problems += [f"{where}: {p}" for p in info["problems"]]
        for href in info["hrefs"]:
            target = _local_target(site, base, href)
            if target is None:
                continue
            checked_links += 1
            path, fragment = target
            if not path.is_file():
                problems.append(f"{where}: broken link {href}")
            elif fragment and path.suffix == ".html" and fragment not in _ids(path):
                problems.append(f"{where}: link to a missing anchor {href}")
        problems += [f"{where}: image does not load: {src}" for src in info["brokenImages"]]
    assert len(visited) >= 14, f"only {len(visited)} pages were visited"
    assert checked_links > 100, f"only {checked_links} internal links were checked: the pages lost their navigation?"
    assert not problems, "the book has problems a reader would meet:\n" + "\n".join(problems[:40])


def test_no_page_names_a_remote_script_style_or_font(book):
    """What a page loads is in the site: no <script src>, <link href> or CSS url() to another host."""
    remote = re.compile(r"""<script[^>]+src=["']?(?:https?:)?//|<link[^>]+href=["']?(?:https?:)?//|url\(["']?(?:https?:)?//""")
    found = []
    for path in sorted(book["site"].rglob("*")):
        if path.suffix in (".html", ".css") and remote.search(path.read_text(encoding="utf-8", errors="replace")):
            found.append(str(path.relative_to(book["site"])))
    assert not found, f"pages or styles that load from another site: {found}"


def test_the_book_has_a_landing_page_and_the_nine_chapters_in_order(visited):
    chapters = [h for h in visited["en/index.html"]["toc"] if re.match(r"^\d\d_", h)]
    assert chapters == [f"{p.stem}.html" for p in NOTEBOOKS], (
        f"the landing page's navigation should list the nine chapters in order, got {chapters}")
    assert len(NOTEBOOKS) == 9, f"the course has nine notebooks, found {len(NOTEBOOKS)}"


def _has_formula(nb_path: Path) -> bool:
    nb = nbformat.read(nb_path, as_version=4)
    return any(c.cell_type == "markdown" and re.search(r"\$[^$\n]+\$", c.source) for c in nb.cells)


def test_every_formula_is_rendered_by_mathjax(book, visited):
    """Each chapter with a formula: at least one rendered, and no span.math/div.math left as raw TeX."""
    base = book["url"]
    pages = [("en", p) for p in NOTEBOOKS] + [("ko", p) for p in sorted(book["ko_src"].glob("*.ipynb"))]
    problems, with_formulas = [], 0
    for lang, nb_path in pages:
        if not _has_formula(nb_path):
            continue
        with_formulas += 1
        c = visited[f"{lang}/{nb_path.stem}.html"]
        if c["mathContainers"] == 0 or c["mathRendered"] < c["math"]:
            problems.append(f"{lang}/{nb_path.stem}: {c['mathRendered']} of {c['math']} formulas rendered")
        if not c["mathjaxScripts"] or not all(s.startswith(base) for s in c["mathjaxScripts"]):
            problems.append(f"{lang}/{nb_path.stem}: MathJax should come from the site, got {c['mathjaxScripts']}")
    assert with_formulas >= 5, f"only {with_formulas} chapters have formulas? the check found too few"
    assert not problems, "formulas not rendered as math:\n" + "\n".join(problems)


def test_text_column_does_not_scroll_sideways_on_a_phone(visited):
    problems = []
    for where, info in visited.items():
        m = info["phone"]
        if m["doc"] > m["win"] + 1 or m["col"] > m["colClient"] + 1:
            problems.append(f"{where}: page {m['doc']} px wide in a {m['win']} px window, "
                            f"text column {m['col']} px in {m['colClient']} px")
    assert not problems, "horizontal scrolling at 375 px:\n" + "\n".join(problems)


def test_code_cells_have_copy_buttons(visited):
    problems = []
    for nb in NOTEBOOKS:
        c = visited[f"en/{nb.stem}.html"]
        if c["codeCells"] == 0 or c["copyButtons"] < c["codeCells"] or c["outputCopyButtons"]:
            problems.append(f"{nb.stem}: {c['copyButtons']} copy buttons on {c['codeCells']} code cells, "
                            f"{c['outputCopyButtons']} on outputs")
    assert not problems, "\n".join(problems)


# -- search --------------------------------------------------------------------------------------------

def _search(browser, base: str, lang: str, query: str) -> list[str]:
    from urllib.parse import quote
    visit = Visit(browser, base, f"/{lang}/search.html?q={quote(query)}")
    try:
        page = visit.page
        page.wait_for_function(
            "() => { const s = document.querySelector('#search-results');"
            " return s && (s.querySelector('ul.search li') || /no|not|없|0/i.test(s.innerText)) &&"
            " !document.querySelector('#search-progress')?.innerText.match(/Preparing|Searching/); }",
            timeout=30_000)
        page.wait_for_timeout(300)  # results are appended in batches
        results = page.eval_on_selector_all("#search-results ul.search li a",
                                            "els => els.map(e => e.getAttribute('href'))")
        assert not visit.problems, f"search page {lang} {query!r}: {visit.problems}"
        return results
    finally:
        visit.close()


def test_search_finds_xavier(book, browser):
    results = _search(browser, book["url"], "en", "Xavier")
    assert any("04_initialization" in r for r in results), (
        f"searching 'Xavier' should find chapter 04 (initialization); results: {results}")


@pytest.mark.parametrize("query", ["초기화", "배치", "도함수"])
def test_search_finds_a_korean_term_with_its_particle_stripped(book, browser, query):
    """The fixture has 초기화는 / 초기화를, 배치의, 도함수는 / 도함수를: never the bare word."""
    text = (FIXTURE_KO / "01_vanishing_gradients.ipynb.json").read_text(encoding="utf-8")
    assert re.search(re.escape(query) + r"[가-힣]", text), f"the fixture should have {query!r} with a particle"
    assert not re.search(re.escape(query) + r"(?![가-힣])", text), f"the fixture should never have a bare {query!r}"
    results = _search(browser, book["url"], "ko", query)
    assert any("01_vanishing_gradients" in r for r in results), (
        f"searching {query!r} in the Korean book should find the fixture chapter; results: {results}")


def test_korean_index_terms_keep_stems_findable():
    """Sphinx indexes whole words; Korean glues particles on: the Korean splitter adds each prefix."""
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    pytest.importorskip("sphinx")
    from coursekit_book import SearchKorean, korean_terms
    from sphinx.search.en import SearchEnglish

    terms = korean_terms("가중치 초기화는 ReLU를 쓴다")
    assert {"초기화", "초기화는", "가중치", "relu", "ReLU"} & set(terms) >= {"초기화", "초기화는", "가중치"}
    assert "ReLU" in terms and "를" in terms, f"Latin letters glued to Hangul are split off, got {terms}"
    english = SearchEnglish({})
    assert "초기화" not in english.split("가중치 초기화는"), "Sphinx's default splitter would index 초기화 (then "
    "the Korean splitter would not be needed: recheck)"
    ko = SearchKorean({})
    assert ko.stem("Xavier") == english.stem("Xavier") and ko.stem("초기화는") == "초기화는"


# -- what each chapter carries -------------------------------------------------------------------------

def _html(book, lang: str, stem: str) -> str:
    return (book["site"] / lang / f"{stem}.html").read_text(encoding="utf-8")


def test_each_chapter_says_how_to_run_it(book, browser):
    """Download (the student edition), the command, Binder on the student edition, the hub's link."""
    problems = []
    for nb in NOTEBOOKS:
        text = _html(book, "en", nb.stem)
        download = book["site"] / "en" / "notebooks" / nb.name
        if f'href="notebooks/{nb.name}"' not in text or not download.is_file():
            problems.append(f"{nb.stem}: no download link to notebooks/{nb.name}")
        elif json.loads(download.read_text(encoding="utf-8"))["metadata"].get("coursekit", {}).get(
                "edition") != "student":
            problems.append(f"{nb.stem}: the download is not the student edition")
        binder = (f"https://mybinder.org/v2/gh/example-org/coursekit/main?urlpath="
                  f"lab%2Ftree%2Fstudent%2F{nb.name}")
        if html.escape(binder) not in text:
            problems.append(f"{nb.stem}: no Binder link opening student/{nb.name}")
        if "hub.example.edu/hub/user-redirect/git-pull?repo=" not in text:
            problems.append(f"{nb.stem}: no nbgitpuller link for the configured hub")
        plain = re.sub(r"<[^>]+>", "", text)
        if "make lab" not in plain or "git clone" not in plain:
            problems.append(f"{nb.stem}: no command to run it")
        if "colab.research.google.com" in text:
            problems.append(f"{nb.stem}: a Colab link, though the course does not install there")
    assert not problems, "\n".join(problems)


def test_widgets_show_their_saved_figure_and_how_to_drive_them(book):
    from browser_support import widget_cell_count
    for nb in NOTEBOOKS:
        text = _html(book, "en", nb.stem)
        n = widget_cell_count(nb)
        notes = text.count('class="ck-widget-note"')
        assert notes == n, f"{nb.stem}: {n} widget cells, {notes} notes on the page"
        assert "widget-view+json" not in text and "jupyter-widgets" not in text, (
            f"{nb.stem}: widget views on a static page (they cannot run there)")
        for m in re.finditer(r'class="ck-widget-note"', text):
            before = text[max(0, m.start() - 3000):m.start()]
            assert "<img" in before, f"{nb.stem}: a widget note with no saved figure above it"


def test_no_solution_reaches_the_book(book):
    """Neither a page nor a download holds a solution line of the instructor notebook."""
    import make_student
    for nb_path in NOTEBOOKS + sorted(book["ko_src"].glob("*.ipynb")):
        lang = "ko" if nb_path.parent == book["ko_src"] else "en"
        nb = nbformat.read(nb_path, as_version=4)
        page = html.unescape(_html(book, lang, nb_path.stem))
        download = (book["site"] / lang / "notebooks" / nb_path.name).read_text(encoding="utf-8")
        for cell in nb.cells:
            if cell.cell_type != "code" or make_student.BEGIN not in cell.source:
                continue
            body = cell.source.split(make_student.BEGIN, 1)[1].split(make_student.END, 1)[0]
            for line in body.splitlines():
                line = line.strip()
                if len(line) >= 16:
                    assert line not in page, f"{lang}/{nb_path.stem}: a solution line on the page: {line!r}"
                    assert json.dumps(line)[1:-1] not in download, f"{nb_path.name}: a solution line in the download"
    assert "fixture-solution-line" not in _html(book, "ko", "01_vanishing_gradients")


def test_pages_link_their_counterpart_only_where_it_exists(book):
    counterpart = re.compile(r'<a class="ck-counterpart" href="([^"]+)"')
    for nb in NOTEBOOKS:
        links = counterpart.findall(_html(book, "en", nb.stem))
        expected = [f"../ko/{nb.stem}.html"] if nb.name == "01_vanishing_gradients.ipynb" else []
        assert links == expected, f"en/{nb.stem}: counterpart links {links}, expected {expected}"
    assert counterpart.findall(_html(book, "ko", "01_vanishing_gradients")) == ["../en/01_vanishing_gradients.html"]
    assert counterpart.findall(_html(book, "en", "index")) == ["../ko/index.html"]
    assert counterpart.findall(_html(book, "ko", "index")) == ["../en/index.html"]
    ko_html = _html(book, "ko", "01_vanishing_gradients")
    assert 'lang="ko"' in ko_html and "기울기 소실" in ko_html
    assert "student%2Fko%2F01_vanishing_gradients.ipynb" in ko_html, "the Korean Binder link opens the Korean edition"


def test_readme_course_table_has_the_books_launch_links():
    """README's table: a Binder link per notebook, the same the book makes from pyproject.toml."""
    import build_book
    links = build_book.Links.load()
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for nb in NOTEBOOKS:
        row = next((line for line in readme.splitlines() if line.startswith(f"| {nb.stem[:2]} |")), None)
        assert row is not None, f"README's course table has no row for {nb.stem}"
        assert links.binder("en", nb.name) in row, f"README's row {nb.stem[:2]} lacks {links.binder('en', nb.name)}"
    assert "nbgitpuller_link.py" in readme
