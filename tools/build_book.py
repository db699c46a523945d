#!/usr/bin/env python3
"""Build the course as a static web book (Sphinx + MyST-NB), one book per language, offline.

Usage (from the project root; ``make book`` runs the first line, with Korean when its notebooks exist):

    python tools/build_book.py                                   # English: notebooks/ -> build/book/en
    python tools/build_book.py --lang en --lang ko --notebooks ko=DIR   # both, linked to each other
    python tools/build_book.py --lang ko --notebooks ko=DIR      # Korean alone

Each language's book is built from a folder of executed notebooks (``--notebooks LANG=DIR``; English:
``notebooks/``), never re-executed: the pages show the committed outputs. For every ``NN_*.ipynb``:

- the page is the **student edition** (tools/make_student.py): exercises as tasks, their outputs
  cleared, and **no solutions anywhere in the book** (not even an appendix): a reader meets an
  exercise here first, and a solution one scroll away defeats "predict, then run"; the site is public,
  so an appendix would also hand every class its answers before the teacher does. The solutions stay
  in the complete notebooks of the repository (``notebooks/``), which each chapter names;
- at the top, under the title, the chapter says how to run it: a download link for its student
  edition (copied into the site, ``notebooks/NN_*.ipynb``), the command to run it on one's machine,
  a Binder link (binder/postBuild writes the student editions; the link opens this chapter's), the
  nbgitpuller link of a class's JupyterHub (or, with no hub configured, the command a teacher makes it
  with), and a link to the same chapter in the other language when that chapter exists in the other
  book built alongside. No Colab link: the course is not on PyPI under its name (``coursekit`` there is
  another project), and no notebook's first cell installs it, so a Colab session could not import it;
- a widget cannot run on a static page: its saved output is replaced by the figure the widget showed
  when the notebook was saved (the PNG in the notebook's widget state) and a note naming its controls
  and how to open the notebook to drive them.

The landing page lists the chapters in order. Links come from ``[tool.coursekit.book]`` in
pyproject.toml (repository, branch, hub), overridden by the environment (COURSEKIT_REPOSITORY,
COURSEKIT_BRANCH, COURSEKIT_HUB: the Pages workflow sets the first from the repository it runs in).
The words the builder adds are in book/strings.toml, one table per language.

Output: ``build/book/<lang>/`` (``--out`` changes build/book), and ``build/book/index.html``, which
sends a reader to the first language built. Generated sources go to ``build/book-src/<lang>/``.
"""
from __future__ import annotations

import argparse
import base64
import copy
import inspect
import os
import re
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

import nbformat

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
import make_student  # noqa: E402

BOOK = ROOT / "book"
STRINGS = tomllib.loads((BOOK / "strings.toml").read_text(encoding="utf-8"))
DEFAULT_NOTEBOOKS = {"en": ROOT / "notebooks"}
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
_H1 = re.compile(r"^#\s+(.+?)\s*$", re.M)


class BookError(RuntimeError):
    """The book cannot be built; the message says why and what to do."""


@dataclass
class Links:
    """Where the course lives: the repository, its branches, a class's hub (pyproject.toml, environment)."""

    repository: str
    branch: str = "main"
    student_branch: str = "student"
    hub: str = ""
    binder_student_dir: dict[str, str] = field(default_factory=lambda: {"en": "student"})

    @classmethod
    def load(cls) -> Links:
        conf = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
        book = conf.get("tool", {}).get("coursekit", {}).get("book", {})
        repo = os.environ.get("COURSEKIT_REPOSITORY") or book.get("repository", "")
        if not repo:
            raise BookError("no repository address: set [tool.coursekit.book] repository in pyproject.toml "
                            "or COURSEKIT_REPOSITORY")
        return cls(
            repository=repo.rstrip("/").removesuffix(".git"),
            branch=os.environ.get("COURSEKIT_BRANCH") or book.get("branch", "main"),
            student_branch=book.get("student_branch", "student"),
            hub=os.environ.get("COURSEKIT_HUB", book.get("hub", "")),
            binder_student_dir=dict(book.get("binder_student_dir", {"en": "student"})),
        )

    def github(self) -> tuple[str, str] | None:
        m = re.match(r"https://github\.com/([^/]+)/([^/]+)$", self.repository)
        return (m.group(1), m.group(2)) if m else None

    def binder(self, lang: str, name: str) -> str | None:
        """The mybinder.org link that opens the student edition ``name`` (binder/postBuild writes it)."""
        gh, folder = self.github(), self.binder_student_dir.get(lang)
        if gh is None or not folder:
            return None
        return (f"https://mybinder.org/v2/gh/{gh[0]}/{gh[1]}/{quote(self.branch, safe='')}"
                f"?urlpath={quote(f'lab/tree/{folder}/{name}', safe='')}")

    def nbgitpuller(self, name: str) -> str | None:
        """The link of deploy/jupyterhub/nbgitpuller_link.py for the configured hub, or None without one."""
        if not self.hub:
            return None
        query = urlencode({"repo": self.repository, "branch": self.student_branch, "targetpath": "coursekit",
                           "urlpath": f"lab/tree/coursekit/student/{name}"})
        return f"{self.hub.rstrip('/')}/hub/user-redirect/git-pull?{query}"

    def blob(self, path: str) -> str:
        return f"{self.repository}/blob/{self.branch}/{path}"


def chapters(folder: Path) -> list[Path]:
    return sorted(Path(folder).glob("[0-9][0-9]_*.ipynb"))


def title_of(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = _H1.search(cell.source)
            if m:
                return m.group(1)
    raise BookError("a notebook has no '# title' heading in its markdown cells")


# -- widgets -------------------------------------------------------------------------------------------

def _widget_models(nb) -> dict:
    state = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {})
    return state.get("state", {})


def _descendants(models: dict, model_id: str, seen: set | None = None):
    seen = set() if seen is None else seen
    if model_id in seen or model_id not in models:
        return
    seen.add(model_id)
    yield model_id, models[model_id]
    for child in models[model_id].get("state", {}).get("children", []) or []:
        if isinstance(child, str) and child.startswith("IPY_MODEL_"):
            yield from _descendants(models, child.removeprefix("IPY_MODEL_"), seen)


def widget_figure(models: dict, model_id: str) -> tuple[bytes | None, list[str]]:
    """The PNG an interactive figure showed when saved, and its controls ("depth (2–50)", ...)."""
    png, controls = None, []
    for _, model in _descendants(models, model_id):
        name, st = model.get("model_name", ""), model.get("state", {})
        if name == "ImageModel" and png is None:
            for buf in model.get("buffers", []):
                if buf.get("path") == ["value"] and buf.get("encoding") == "base64":
                    png = base64.b64decode(buf["data"])
        elif name.endswith("SliderModel") or name in ("DropdownModel", "ToggleButtonsModel", "RadioButtonsModel",
                                                      "CheckboxModel", "SelectionSliderModel"):
            label = st.get("description") or name.removesuffix("Model")
            if "min" in st and "max" in st and "Selection" not in name:
                label += f" ({st['min']}–{st['max']})"
            controls.append(label)
    return png, controls


def replace_widgets(nb, strings: dict) -> int:
    """Each widget output becomes its saved figure (PNG) plus a note; returns how many were replaced."""
    models = _widget_models(nb)
    count = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        new_outputs = []
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                new_outputs.append(out)
                continue
            count += 1
            png, controls = widget_figure(models, view.get("model_id", ""))
            if png is not None:
                new_outputs.append(nbformat.v4.new_output(
                    "display_data", data={"image/png": base64.b64encode(png).decode("ascii")}))
            names = [f"**{c}**" for c in controls] or ["its controls"]
            joined = names[0] if len(names) == 1 else (
                ", ".join(names[:-1]) + f" {strings['widget_controls_and']} " + names[-1])
            note = strings["widget_note"].format(controls=joined)
            new_outputs.append(nbformat.v4.new_output(
                "display_data", data={"text/html": f'<div class="ck-widget-note">{_md_inline(note)}</div>',
                                      "text/plain": note}))
        cell.outputs = new_outputs
    nb.metadata.pop("widgets", None)
    return count


def _md_inline(text: str) -> str:
    """The little markdown the builder's notes use (**bold**, `code`), as HTML."""
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    return re.sub(r"`(.+?)`", r"<code>\1</code>", text)


# -- one chapter ---------------------------------------------------------------------------------------

def run_box(lang: str, name: str, exercises: list[str], links: Links, counterpart: str | None) -> str:
    """The markdown under a chapter's title: how to run it, its exercises, the other language."""
    s = STRINGS[lang]
    lines = ['<div class="ck-run">', ""]
    if counterpart:
        lines += [f'<p class="ck-lang"><a class="ck-counterpart" href="{counterpart}" '
                  f'title="{s["counterpart_title"]}">{s["counterpart"]}</a></p>', ""]
    lines += [f"**{s['run_heading']}:** {_download(name, s['download'])} {s['download_note']}"]
    binder = links.binder(lang, name)
    if binder:
        lines[-1] += f" · [{s['binder']}]({binder}) {s['binder_note']}"
    hub = links.nbgitpuller(name)
    lines += [""]
    if hub:
        lines += [f"**{s['hub']}:** [{s['hub_link']}]({hub})", ""]
    else:
        lines += [f"**{s['hub']}:** {s['hub_command']} "
                  f"`python deploy/jupyterhub/nbgitpuller_link.py --hub <hub> --repo {links.repository} {name}`",
                  ""]
    lines += [s["command"], s["command_block"].format(repository=links.repository, name=name).strip(), ""]
    if exercises:
        lines += [s["exercises"].format(count=len(exercises), names=", ".join(f"`{e}`" for e in exercises),
                                        name=name, solution_url=links.blob(f"notebooks/{name}")), ""]
    lines += ["</div>"]
    return "\n".join(lines)


def _download(name: str, text: str) -> str:
    """A plain link to the student edition copied into the site (raw HTML: MyST would take a link to
    an .ipynb for a page of the book)."""
    return f'<a class="ck-download" href="notebooks/{name}" download>{text}</a>'


def _rewrite_links(source: str, names: set[str], links: Links, src_prefix: str) -> str:
    """Links to another chapter stay (MyST resolves them); links to other files of the repository go there."""
    def fix(m):
        text, target = m.group(1), m.group(2)
        if re.match(r"^[a-z]+:|^#|^mailto:", target):
            return m.group(0)
        path, _, anchor = target.partition("#")
        if Path(path).name in names and "/" not in path:
            return m.group(0)
        resolved = os.path.normpath(f"{src_prefix}/{path}").replace(os.sep, "/")
        return f"[{text}]({links.blob(resolved)}{'#' + anchor if anchor else ''})"
    return re.sub(r"(?<!!)\[([^\]]*)\]\(([^)\s]+)\)", fix, source)


def book_chapter(src: Path, lang: str, links: Links, names: set[str], counterpart: str | None):
    """``(page_notebook, download_notebook, exercises, widgets)`` for one source notebook."""
    nb = nbformat.read(src, as_version=4)
    label = f"notebooks/{src.name}"
    kwargs = {"lang": lang} if "lang" in inspect.signature(make_student.make_student_notebook).parameters else {}
    student, exercises, _, _ = make_student.make_student_notebook(
        nb, label, link=f"../notebooks/{src.name}", shown=label, **kwargs)
    download = copy.deepcopy(student)
    page = student
    page.cells = [c for c in page.cells if c.get("id") != make_student.BANNER_ID]
    widgets = replace_widgets(page, STRINGS[lang])
    for cell in page.cells:
        if cell.cell_type == "markdown":
            cell.source = _rewrite_links(cell.source, names, links, "notebooks")
    first = next((i for i, c in enumerate(page.cells) if c.cell_type == "markdown" and _H1.search(c.source)), 0)
    box = nbformat.v4.new_markdown_cell(run_box(lang, src.name, exercises, links, counterpart))
    box["id"] = "book-run-this-chapter"
    cells = [box]
    title_cell = page.cells[first]
    m = _H1.search(title_cell.source)
    rest = title_cell.source[m.end():].strip("\n") if m else ""
    if m and rest and not title_cell.source[:m.start()].strip():  # the box goes right under the title
        title_cell.source = title_cell.source[:m.end()]
        tail = nbformat.v4.new_markdown_cell(rest)
        tail["id"] = "book-title-rest"
        cells.append(tail)
    page.cells[first + 1:first + 1] = cells
    for cell in page.cells:  # never a solution on a page or in a download (a test checks this too)
        if cell.cell_type == "code" and make_student.BEGIN in cell.source:
            raise BookError(f"{src}: a solution block survived the student edition")
    return page, download, exercises, widgets


def landing_page(lang: str, entries: list[tuple[str, str]], links: Links, counterpart: str | None) -> str:
    s = STRINGS[lang]
    lines = [f"# {s['title']}", ""]
    if counterpart:
        lines += [f'<p class="ck-lang"><a class="ck-counterpart" href="{counterpart}">{s["counterpart"]}</a></p>', ""]
    lines += [s["landing"].strip(), "", s["run_course"].format(repository=links.repository).strip(), "",
              s["table_header"]]
    for name, title in entries:
        stem = Path(name).stem
        run = _download(name, s["download"])
        binder = links.binder(lang, name)
        if binder:
            run += f" · [Binder]({binder})"
        lines.append(f"| {stem[:2]} | [{title}]({stem}.ipynb) | {run} |")
    lines += ["", "```{toctree}", ":hidden:", ":maxdepth: 1", f":caption: {s['chapters_caption']}", ""]
    lines += [Path(name).stem for name, _ in entries]
    lines += ["```", ""]
    return "\n".join(lines)


# -- a whole book --------------------------------------------------------------------------------------

def prepare(lang: str, folder: Path, src_dir: Path, links: Links, others: dict[str, set[str]]) -> dict:
    """Write the book's sources for ``lang`` into ``src_dir``; ``others``: chapters of the other books."""
    if lang not in STRINGS:
        raise BookError(f"--lang {lang!r}: book/strings.toml has no table for it (it has {sorted(STRINGS)})")
    sources = chapters(folder)
    if not sources:
        raise BookError(f"--notebooks {lang}={folder}: no NN_*.ipynb notebooks there")
    if src_dir.exists():
        shutil.rmtree(src_dir)
    (src_dir / "_extra" / "notebooks").mkdir(parents=True)
    names = {p.name for p in sources}
    other = next(iter(sorted(others)), None)  # two languages so far: the other one
    entries, stats = [], {"chapters": 0, "exercises": 0, "widgets": 0}
    for src in sources:
        counterpart = f"../{other}/{src.stem}.html" if other and src.name in others[other] else None
        page, download, exercises, widgets = book_chapter(src, lang, links, names, counterpart)
        nbformat.write(page, src_dir / src.name)
        nbformat.write(download, src_dir / "_extra" / "notebooks" / src.name)
        entries.append((src.name, title_of(page)))
        stats["chapters"] += 1
        stats["exercises"] += len(exercises)
        stats["widgets"] += widgets
    home = f"../{other}/index.html" if other else None
    (src_dir / "index.md").write_text(landing_page(lang, entries, links, home), encoding="utf-8")
    return stats


def sphinx_build(lang: str, src_dir: Path, out_dir: Path) -> list[str]:
    """Run sphinx-build; returns its warnings. Raises BookError if it fails.

    Sphinx writes into ``<src_dir>.html/html`` (MyST-NB puts its own copies of the outputs beside the
    HTML folder, in ``jupyter_execute/``), then the HTML folder moves to ``out_dir``, without the
    source maps and the theme's translation catalogs, which no page loads.
    """
    stage = src_dir.with_name(src_dir.name + ".html")
    for path in (stage, out_dir):
        if path.exists():
            shutil.rmtree(path)
    env = dict(os.environ, COURSEKIT_BOOK_LANG=lang, COURSEKIT_BOOK_TITLE=STRINGS[lang]["title"],
               COURSEKIT_BOOK_EXTRA=str(src_dir / "_extra"))
    cmd = [sys.executable, "-m", "sphinx", "-q", "-b", "html", "-c", str(BOOK), "-d", str(stage / "doctrees"),
           "-j", "auto", str(src_dir), str(stage / "html")]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    warnings = [line for line in proc.stderr.splitlines() if "WARNING" in line or "ERROR" in line]
    if proc.returncode != 0:
        raise BookError(f"sphinx-build failed for {lang} (exit {proc.returncode}):\n{proc.stderr[-4000:]}")
    for junk in (stage / "html").glob("_static/**/*.map"):
        junk.unlink()
    shutil.rmtree(stage / "html" / "_static" / "locales", ignore_errors=True)
    (stage / "html" / ".buildinfo").unlink(missing_ok=True)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(stage / "html", out_dir)
    shutil.rmtree(stage)
    return warnings


def root_index(out: Path, langs: list[str]) -> None:
    first = langs[0]
    items = "\n".join(f'<li><a href="{lang}/index.html" hreflang="{lang}">{STRINGS[lang]["language_name"]}</a></li>'
                      for lang in langs)
    (out / "index.html").write_text(
        f"""<!DOCTYPE html>
<html lang="{first}"><head><meta charset="utf-8"><title>coursekit</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="refresh" content="0; url={first}/index.html"></head>
<body><ul>
{items}
</ul></body></html>
""", encoding="utf-8")
    (out / ".nojekyll").write_text("", encoding="utf-8")  # GitHub Pages: serve _static/ as it is


def site_size(path: Path) -> int:
    return sum(p.stat().st_size for p in Path(path).rglob("*") if p.is_file())


def build(langs: list[str], notebooks: dict[str, Path], out: Path, src_root: Path, links: Links,
          log=print) -> dict[str, dict]:
    """Build every book in ``langs``; each links to its counterpart pages in the others. Returns stats."""
    folders = {}
    for lang in langs:
        folder = notebooks.get(lang) or DEFAULT_NOTEBOOKS.get(lang)
        if folder is None:
            raise BookError(f"--lang {lang}: say where its notebooks are, --notebooks {lang}=DIR")
        folders[lang] = Path(folder)
    available = {lang: {p.name for p in chapters(folders[lang])} for lang in langs}
    out.mkdir(parents=True, exist_ok=True)
    results = {}
    for lang in langs:
        t0 = time.perf_counter()
        others = {o: available[o] for o in langs if o != lang}
        stats = prepare(lang, folders[lang], src_root / lang, links, others)
        stats["warnings"] = sphinx_build(lang, src_root / lang, out / lang)
        stats["seconds"] = time.perf_counter() - t0
        stats["bytes"] = site_size(out / lang)
        results[lang] = stats
        log(f"book {lang}: {stats['chapters']} chapters ({stats['exercises']} exercises, {stats['widgets']} widget "
            f"figures) from {folders[lang]} -> {out / lang} in {stats['seconds']:.0f} s, "
            f"{stats['bytes'] / 2**20:.1f} MiB, {len(stats['warnings'])} Sphinx warnings")
        for w in stats["warnings"]:
            log(f"  {w}")
    root_index(out, langs)
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--lang", action="append", help="a language to build (repeat it); default: en")
    parser.add_argument("--notebooks", action="append", default=[], metavar="LANG=DIR",
                        help="the executed notebooks of a language (default en=notebooks)")
    parser.add_argument("--out", type=Path, default=ROOT / "build" / "book", help="default: build/book")
    parser.add_argument("--src", type=Path, default=ROOT / "build" / "book-src",
                        help="where the generated page sources go (default: build/book-src)")
    args = parser.parse_args(argv)
    notebooks = {}
    for item in args.notebooks:
        lang, sep, folder = item.partition("=")
        if not sep or not lang or not folder:
            parser.error(f"--notebooks wants LANG=DIR, got {item!r}")
        notebooks[lang] = Path(folder)
    langs = args.lang or ["en"]
    try:
        t0 = time.perf_counter()
        build(langs, notebooks, args.out, args.src, Links.load())
    except (BookError, make_student.MarkerError) as err:
        print(f"build_book: {err}", file=sys.stderr)
        return 1
    print(f"build_book: {args.out} ({', '.join(langs)}), {site_size(args.out) / 2**20:.1f} MiB in "
          f"{time.perf_counter() - t0:.0f} s; open {args.out / langs[0] / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
