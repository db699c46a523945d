"""Translation catalogs of the notebooks' markdown (gettext ``.po``, one per notebook and language).

A markdown cell is cut into blocks at blank lines (a fenced code block, a ``$$`` display and an HTML
``<details>``/``<table>`` element stay whole); each block is one catalog entry:

    msgctxt  the cell's id (nbformat cell ids are stable across edits)
    msgid    the English block, verbatim
    msgstr   its translation

A block that holds no prose (a code fence, a display formula, an image, a rule) is not extracted: the
translated notebook copies it as it is.

The comments and docstrings of code cells are translated too (neither can change what a cell outputs):
one entry per distinct comment of a cell, and one per docstring of a function or class it defines:

    msgctxt  the cell's id + ``#comment`` (or ``#docstring``)
    msgid    the comment's text, after ``# `` (a docstring's text between its quotes, verbatim)
    msgstr   its translation (the build writes ``# `` + it where the comment was, or puts it between
             the docstring's quotes)

The code itself, the solution markers (``### BEGIN SOLUTION``) and tool directives (``# noqa``,
``# type:``) are never extracted.

    python tools/i18n.py extract notebooks/04_initialization.ipynb --lang ko
        writes locale/ko/notebooks/04_initialization.pot (a template: every msgstr empty)
    python tools/i18n.py update [notebooks...]
        after an English change: re-extracts each template and merges it into the notebook's .po as
        msgmerge does. An unchanged block keeps its translation; a block whose English changed becomes
        fuzzy, keeping its previous English (``#| msgid``) and the old translation as a starting point;
        a new block is left empty; a block that vanished is kept as obsolete (``#~``).
    python tools/i18n.py check [notebooks...] [--allow-missing]
        exit 1 and list every untranslated and fuzzy entry (notebook, cell index and id, and the English
        sentence that changed), and every catalog that is out of date with its notebook (run update).
    python tools/i18n.py build [notebooks...] [--out ko/notebooks] [--allow-incomplete | --skip-incomplete]
        the Korean notebooks, generated (never edit them): markdown translated block by block, code cells
        and outputs copied from the English notebook (the English run's outputs; not run again) with
        their comments and docstrings translated, and ``ck.setup_notebook(seed=SEED)`` becomes
        ``ck.setup_notebook(seed=SEED, lang="ko")``.
        Refuses an untranslated, fuzzy or out-of-date catalog; ``--allow-incomplete`` builds a draft that
        keeps the English of those blocks and says so at the top of the notebook and in its metadata;
        ``--skip-incomplete`` builds only the notebooks whose catalogs are complete and names the others.
        ``--student DIR`` then writes their student editions there with tools/make_student.py.

Without notebooks, update, check and build take every ``notebooks/NN_*.ipynb``.
"""
from __future__ import annotations

import argparse
import copy
import difflib
import re
import sys
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOCALE = ROOT / "locale"
NOTEBOOKS = ROOT / "notebooks"
# The call that picks the package's language: the one change the build makes to a code cell.
SETUP_CALL = "ck.setup_notebook(seed=SEED)"
# Where the generated notebooks go: <lang>/notebooks/ (git ignores it; `make korean` writes it).
DRAFT_ID = "translation-draft-note"

_FENCE = re.compile(r"^\s*(```|~~~)")
_NO_PROSE = re.compile(
    r"^\s*(```|~~~)[\s\S]*$"            # a code fence
    r"|^\s*\$\$[\s\S]*\$\$\s*$"          # a display formula
    r"|^\s*!\[[^\]]*\]\([^)]*\)\s*$"     # an image alone
    r"|^\s*(-{3,}|\*{3,}|_{3,})\s*$"     # a rule
    r"|^\s*<img [^>]*>\s*$"
)


def blocks(source: str) -> list[tuple[str, str]]:
    """Cut a markdown cell into ``(block, separator)`` pairs; ``"".join(b + s for b, s in ...)`` is the
    cell again, character for character (leading blank lines belong to the first block)."""
    lines = source.split("\n")
    groups: list[list[int]] = []   # the line numbers of each block
    current: list[int] = []
    fence = None                   # the fence string while inside a fenced block
    in_math = False                # inside a $$ ... $$ display spread over lines
    html_depth = 0                 # inside <details>/<table> ... </details>/</table>
    for n, line in enumerate(lines):
        stripped = line.strip()
        if fence is None and not in_math and html_depth == 0 and stripped == "":
            if current and lines[current[-1]].strip():
                groups.append(current)
                current = []
            if not groups:
                current.append(n)  # blank lines before the first block
            continue
        m = _FENCE.match(line)
        if fence is None and m:
            fence = m.group(1)
        elif fence is not None and stripped.startswith(fence):
            fence = None
        elif fence is None:
            if stripped.count("$$") % 2 == 1:
                in_math = not in_math
            html_depth += len(re.findall(r"<(details|table)\b", line)) - len(re.findall(r"</(details|table)>", line))
            html_depth = max(html_depth, 0)
        current.append(n)
    if current:
        groups.append(current)
    out = []
    for k, g in enumerate(groups):
        first, last = g[0], g[-1]
        nxt = groups[k + 1][0] if k + 1 < len(groups) else len(lines)
        text = "\n".join(lines[first:last + 1])
        gap = lines[last + 1:nxt]
        sep = ("\n" + "\n".join(gap) + "\n") if k + 1 < len(groups) else ("\n" + "\n".join(gap) if gap else "")
        out.append((text, sep))
    return out


def is_prose(block: str) -> bool:
    """Whether a block carries words to translate."""
    return bool(block.strip()) and not _NO_PROSE.match(block)


# The msgctxt of a code cell's comments: the cell's id and this suffix.
COMMENT_CTX = "#comment"
_NOT_PROSE_COMMENT = re.compile(
    r"^#+\s*(BEGIN|END)\s+(SOLUTION|HIDDEN TESTS|PROMPT)\b"  # nbgrader's and make_student's markers
    r"|^#\s*(noqa|type:|pragma|fmt:|pylint:|ruff:)"          # tool directives
    r"|^#!"
)


def comments(source: str) -> list[tuple[int, int, str]]:
    """The comments of a code cell a learner reads: ``(line, column, text)`` for each ``#`` comment
    (``line`` counts from 0; ``text`` is what follows ``#`` and one space). Found by Python's tokenizer,
    so a ``#`` inside a string is not a comment; IPython's ``%magic`` and ``!shell`` lines are left out.
    Markers, directives and comments without a word (``# 1e-08``) are not prose."""
    import io
    import tokenize

    lines = source.split("\n")
    code = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in lines)
    found = []
    try:
        for tok in tokenize.generate_tokens(io.StringIO(code).readline):
            if tok.type != tokenize.COMMENT or _NOT_PROSE_COMMENT.match(tok.string):
                continue
            text = tok.string[1:]
            text = text[1:] if text.startswith(" ") else text
            if re.search(r"[^\W\d_]{2,}", text):  # a word, not "1e-08"
                found.append((tok.start[0] - 1, tok.start[1], text))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return []  # not Python as a whole: its comments stay as they are
    return found


# The msgctxt of a code cell's docstrings: the cell's id and this suffix.
DOCSTRING_CTX = "#docstring"
_STRING = re.compile(r"^([rRuU]?)(\"\"\"|'''|\"|')(.*)\2$", re.S)


def docstrings(source: str) -> list[tuple[int, int, int, int, str, str]]:
    """The docstrings of the functions and classes a code cell defines: ``(line, column, end line, end
    column, opening, text)`` for each (lines from 0; ``opening`` is the prefix and the quotes; ``text``
    what stands between the quotes, verbatim). Found by Python's parser and tokenizer."""
    import ast
    import io
    import tokenize

    code = "\n".join("" if ln.lstrip().startswith(("%", "!")) else ln for ln in source.split("\n"))
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    rows = {node.body[0].value.lineno for node in ast.walk(tree)
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and node.body
            and isinstance(node.body[0], ast.Expr) and isinstance(node.body[0].value, ast.Constant)
            and isinstance(node.body[0].value.value, str)}
    found = []
    for tok in tokenize.generate_tokens(io.StringIO(code).readline):
        if tok.type == tokenize.STRING and tok.start[0] in rows:
            rows.discard(tok.start[0])
            m = _STRING.match(tok.string)
            if m and re.search(r"[^\W\d_]{2,}", m.group(3)):
                found.append((tok.start[0] - 1, tok.start[1], tok.end[0] - 1, tok.end[1],
                              m.group(1) + m.group(2), m.group(3)))
    return found


def is_code_entry(entry) -> bool:
    """Whether an entry is a code cell's comment or docstring (not a markdown block)."""
    return (entry.msgctxt or "").endswith((COMMENT_CTX, DOCSTRING_CTX))


def _cell_index(nb) -> dict[str, int]:
    """msgctxt -> cell index, for markdown blocks, code comments and docstrings alike."""
    index = {}
    for i, c in enumerate(nb.cells):
        if "id" in c:
            index[c.id] = i
            index[c.id + COMMENT_CTX] = i
            index[c.id + DOCSTRING_CTX] = i
    return index


def extract(notebook: Path):
    """The catalog template of one notebook: one entry per prose block of each markdown cell, and one per
    distinct comment of each code cell."""
    import nbformat
    import polib

    nb = nbformat.read(notebook, as_version=4)
    pot = polib.POFile(wrapwidth=0)
    pot.metadata = {"Content-Type": "text/plain; charset=UTF-8", "Content-Transfer-Encoding": "8bit",
                    "MIME-Version": "1.0"}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown":
            for block, _ in blocks(cell.source):
                if is_prose(block):
                    pot.append(polib.POEntry(msgctxt=cell.id, msgid=block, msgstr="",
                                             occurrences=[(notebook.name, str(index))]))
        elif cell.cell_type == "code":
            for text in dict.fromkeys(text for _, _, text in comments(cell.source)):
                pot.append(polib.POEntry(msgctxt=cell.id + COMMENT_CTX, msgid=text, msgstr="",
                                         occurrences=[(notebook.name, str(index))]))
            for text in dict.fromkeys(d[-1] for d in docstrings(cell.source)):
                pot.append(polib.POEntry(msgctxt=cell.id + DOCSTRING_CTX, msgid=text, msgstr="",
                                         occurrences=[(notebook.name, str(index))]))
    return pot


def translate_comments(source: str, table: dict[str, str]) -> tuple[str, list[str]]:
    """``source`` with each comment found in ``table`` (English text -> translation) replaced, the code
    untouched; returns it and the comments left in English."""
    lines = source.split("\n")
    left = []
    for row, col, text in sorted(comments(source), key=lambda c: (c[0], -c[1])):
        ko = table.get(text)
        if ko is None:
            left.append(text)
            continue
        line = lines[row]
        end = line.index(text, col) + len(text)
        lines[row] = line[:col] + "# " + ko + line[end:]
    return "\n".join(lines), left


def translate_docstrings(source: str, table: dict[str, str]) -> tuple[str, list[str]]:
    """``source`` with the text of each docstring found in ``table`` replaced between its own quotes;
    returns it and the docstrings left in English."""
    starts = [0]
    for line in source.split("\n"):
        starts.append(starts[-1] + len(line) + 1)
    left = []
    for row, col, end_row, end_col, opening, text in sorted(docstrings(source), reverse=True):
        ko = table.get(text)
        if ko is None:
            left.append(text)
            continue
        a = starts[row] + col + len(opening)
        b = starts[end_row] + end_col - len(opening.lstrip("rRuU"))
        source = source[:a] + ko + source[b:]
    return source, left[::-1]


def template_path(notebook: Path, lang: str, locale: Path | None = None) -> Path:
    return Path(locale or LOCALE) / lang / "notebooks" / (Path(notebook).stem + ".pot")


def catalog_path(notebook: Path, lang: str, locale: Path | None = None) -> Path:
    return Path(locale or LOCALE) / lang / "notebooks" / (Path(notebook).stem + ".po")


def course_notebooks() -> list[Path]:
    return sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))


def _label(path: Path) -> str:
    try:
        return Path(path).resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return Path(path).name


def _key(entry) -> tuple[str, str]:
    return (entry.msgctxt or "", entry.msgid)


def _copy_entry(entry, **changes):
    import polib

    new = polib.POEntry(msgctxt=entry.msgctxt, msgid=entry.msgid, msgstr=entry.msgstr,
                        occurrences=list(entry.occurrences), flags=list(entry.flags),
                        comment=entry.comment, tcomment=entry.tcomment,
                        previous_msgid=entry.previous_msgid, previous_msgctxt=entry.previous_msgctxt)
    for name, value in changes.items():
        setattr(new, name, value)
    return new


def _similarity(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()


def merge(po, template):
    """``po`` merged with a fresh ``template``, as msgmerge does it; neither argument is changed.

    Entries follow the template's order (its occurrences, i.e. the cells' current indices, too):

    - a (msgctxt, msgid) found in ``po`` keeps its translation and flags;
    - a block of a cell whose English changed is paired with the old block of the same cell it
      replaced (same position when the cell has as many changed blocks as before, else the most
      similar one, ratio >= 0.5): it becomes fuzzy, with ``previous_msgid`` = the English the
      translation was made for and the old translation as a starting point;
    - a block that moved to another cell unchanged is fuzzy too (``previous_msgctxt``); a fuzzy entry
      whose English is back to the one its translation was made for is translated again;
    - anything else new is empty; an old entry left over becomes obsolete (``#~``), and an obsolete
      entry whose block comes back is revived.
    """
    import polib

    out = polib.POFile(wrapwidth=0)
    out.metadata = dict(po.metadata) if po is not None else dict(template.metadata)
    old_active = [e for e in po if not e.obsolete] if po is not None else []
    old_obsolete = [e for e in po if e.obsolete] if po is not None else []
    by_key = {}
    for e in old_active:
        by_key.setdefault(_key(e), e)
    used: set[int] = set()
    merged: list = [None] * len(template)
    for n, t in enumerate(template):
        old = by_key.get(_key(t))
        if old is not None and id(old) not in used:
            used.add(id(old))
            merged[n] = _copy_entry(old, occurrences=list(t.occurrences))

    def fuzzy_from(t, old):
        was = old.previous_msgid if "fuzzy" in old.flags and old.previous_msgid else old.msgid
        ctx = old.previous_msgctxt if "fuzzy" in old.flags and old.previous_msgctxt else old.msgctxt
        flags = [f for f in old.flags if f != "fuzzy"]
        if was == t.msgid and ctx == t.msgctxt and old.msgstr:
            # the English is back to what the translation was made for (an edit undone): not stale
            return _copy_entry(t, msgstr=old.msgstr, flags=flags, tcomment=old.tcomment,
                               previous_msgid=None, previous_msgctxt=None)
        flags.append("fuzzy")
        return _copy_entry(t, msgstr=old.msgstr, flags=flags, tcomment=old.tcomment,
                           previous_msgid=was if was != t.msgid else None,
                           previous_msgctxt=ctx if ctx != t.msgctxt else None)

    # Changed blocks within a cell: pair the cell's leftovers.
    cells = list(dict.fromkeys(t.msgctxt for t in template))
    for ctx in cells:
        new_left = [n for n, t in enumerate(template) if t.msgctxt == ctx and merged[n] is None]
        old_left = [e for e in old_active if e.msgctxt == ctx and id(e) not in used]
        if not new_left or not old_left:
            continue
        pairs = []
        if len(new_left) == len(old_left):
            pairs = list(zip(new_left, old_left))
        else:
            scored = sorted(((_similarity(template[n].msgid, e.msgid), -abs(i - j), n, e)
                             for i, n in enumerate(new_left) for j, e in enumerate(old_left)),
                            key=lambda x: (x[0], x[1]), reverse=True)
            taken_new: set[int] = set()
            for ratio, _, n, e in scored:
                if ratio >= 0.5 and n not in taken_new and id(e) not in used:
                    pairs.append((n, e))
                    taken_new.add(n)
                    used.add(id(e))
        for n, e in pairs:
            used.add(id(e))
            merged[n] = fuzzy_from(template[n], e)

    # Blocks that moved to another cell, and obsolete entries that come back.
    obsolete_by_key = {_key(e): e for e in old_obsolete}
    revived: set[int] = set()
    for n, t in enumerate(template):
        if merged[n] is not None:
            continue
        back = obsolete_by_key.get(_key(t))
        if back is not None and back.msgstr:
            revived.add(id(back))
            merged[n] = _copy_entry(back, obsolete=False, occurrences=list(t.occurrences))
            continue
        moved = next((e for e in old_active if id(e) not in used and e.msgid == t.msgid and e.msgstr), None)
        if moved is not None:
            used.add(id(moved))
            merged[n] = fuzzy_from(t, moved)
            continue
        merged[n] = _copy_entry(t, msgstr="", flags=[], previous_msgid=None, previous_msgctxt=None)
    for e in merged:
        out.append(e)
    for e in old_active:
        if id(e) not in used and e.msgstr:
            out.append(_copy_entry(e, obsolete=True, occurrences=[], flags=[]))
    for e in old_obsolete:
        if id(e) not in revived and _key(e) not in {_key(x) for x in out if x.obsolete}:
            out.append(_copy_entry(e, obsolete=True))
    return out


# --- naming what changed ---------------------------------------------------------------------------

_ITEM = re.compile(r"^\s*([-*+]\s|\d+[.)]\s|#{1,6}\s|>|\|)")


def sentences(block: str) -> list[str]:
    """A block as its sentences: list items, headings, table rows and quote lines each start one; a line
    that continues a paragraph is joined to it; sentences end at ``.``, ``!``, ``?`` before a space."""
    segments: list[str] = []
    for line in block.split("\n"):
        text = line.strip()
        if not text:
            continue
        quoted = text.startswith(">") and bool(segments) and segments[-1].startswith(">")
        inner = text[1:].strip() if quoted else text
        if segments and inner and not _ITEM.match(inner) and (quoted or not text.startswith(">")):
            segments[-1] += " " + inner  # a paragraph, a list item or a quote wrapped over lines
        else:
            segments.append(text)
    out = []
    for seg in segments:
        out += [s for s in re.split(r"(?<=[.!?])\s+(?=\S)", seg) if s.strip()]
    return out


def changed_sentences(old: str, new: str) -> list[tuple[str | None, str | None]]:
    """The sentences that differ between two versions of a block: ``(old, new)`` pairs; ``None`` on
    the side where a sentence was added or removed."""
    a, b = sentences(old), sentences(new)
    out: list[tuple[str | None, str | None]] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        olds, news = a[i1:i2], b[j1:j2]
        for k in range(max(len(olds), len(news))):
            out.append((olds[k] if k < len(olds) else None, news[k] if k < len(news) else None))
    return out


def _short(text: str, width: int = 160) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[:width - 3] + "..."


def _q(text: str, width: int = 160) -> str:
    """A sentence quoted for a message, on one line (no escaping: a formula stays readable)."""
    return '"' + _short(text, width) + '"'


@dataclass
class Problem:
    """One reason a catalog cannot be shipped: says where (notebook, cell) and what."""

    notebook: str
    kind: str          # "missing", "out of date", "untranslated", "fuzzy"
    detail: str
    index: int | None = None
    cell_id: str | None = None

    def __str__(self) -> str:
        where = self.notebook if self.index is None else f"{self.notebook}, cell {self.index} (id {self.cell_id})"
        return f"{where}: {self.kind}: {self.detail}"


def problems(notebook: Path, po, lang: str = "ko", locale: Path | None = None) -> list[Problem]:
    """Everything that keeps the catalog ``po`` (a POFile or None) of ``notebook`` from being shipped."""
    import nbformat

    nb = nbformat.read(notebook, as_version=4)
    name = Path(notebook).stem
    index = _cell_index(nb)
    template = extract(Path(notebook))
    if po is None:
        return [Problem(name, "missing", f"no catalog {_label(catalog_path(notebook, lang, locale))} "
                                         f"({len(template)} blocks to translate)")]
    found: list[Problem] = []
    active = [e for e in po if not e.obsolete]
    if [_key(e) for e in active] != [_key(t) for t in template]:
        found.append(Problem(name, "out of date", "the catalog's entries are not the notebook's blocks "
                                                  "(an English cell changed): run `python tools/i18n.py update`"))
    for e in merge(po, template):
        if e.obsolete:
            continue
        i = index.get(e.msgctxt)
        if "fuzzy" in e.flags:
            if e.previous_msgid and e.previous_msgid != e.msgid:
                changes = changed_sentences(e.previous_msgid, e.msgid)
                said = "; ".join(
                    f"{_q(o)} -> {_q(n)}" if o and n else f"added {_q(n)}" if n else f"removed {_q(o)}"
                    for o, n in changes) or f"{_q(e.msgid)} (spacing or line breaks)"
                found.append(Problem(name, "fuzzy", f"English changed: {said}", i, e.msgctxt))
            elif e.previous_msgctxt:
                found.append(Problem(name, "fuzzy", f"block moved from cell id {e.previous_msgctxt}: "
                                                    f"{_q(e.msgid)}", i, e.msgctxt))
            else:
                found.append(Problem(name, "fuzzy", f"marked for review: {_q(e.msgid)}", i, e.msgctxt))
        elif not e.msgstr.strip():
            found.append(Problem(name, "untranslated", _q(e.msgid), i, e.msgctxt))
    return found


def load_catalog(notebook: Path, lang: str = "ko", locale: Path | None = None):
    import polib

    path = catalog_path(notebook, lang, locale)
    return polib.pofile(str(path), wrapwidth=0) if path.exists() else None


# --- the glossary and the markdown a translation must keep ------------------------------------------

_SKIP = re.compile(r"`[^`]*`|\$\$[\s\S]*?\$\$|\$[^$]*\$|\]\([^)]*\)")   # code, math, link targets
_FENCES = re.compile(r"(?m)^\s*(```|~~~)")
_TOKENS = re.compile(r"`[^`]*`|\$\$[\s\S]*?\$\$|\$[^$]+\$|\]\([^)]*\)")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
BESIDE = 40  # how near (characters) the English must be to the Korean term at its first use


def load_glossary(path: Path | None = None, lang: str = "ko") -> list[tuple[str, str]]:
    """``(english, korean)`` pairs of ``locale/<lang>/glossary.tsv``, longest English first."""
    path = Path(path or LOCALE / lang / "glossary.tsv")
    rows = [line.rstrip("\n").split("\t") for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    if rows and rows[0] == ["english", lang if lang != "ko" else "korean"]:
        rows = rows[1:]
    bad = [r for r in rows if len(r) != 2 or not all(x.strip() for x in r)]
    if bad:
        raise ValueError(f"{_label(path)}: every line is english<TAB>{lang}; not {bad[0]!r}")
    return sorted(((en.strip(), ko.strip()) for en, ko in rows), key=lambda t: -len(t[0]))


def _term(term: str) -> re.Pattern:
    return re.compile(r"(?<![\w-])" + re.escape(term) + r"(?![\w-])", re.I)


def terms_in(english: str, glossary: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The glossary terms an English block uses, outside `code`, $math$ and link targets; a longer term
    is matched first and hides the shorter ones inside it ("gradient descent" is not "gradient")."""
    text = _SKIP.sub(" ", english)
    found = []
    for en, ko in glossary:
        pat = _term(en)
        if pat.search(text):
            text = pat.sub(" ", text)
            found.append((en, ko))
    return found


def glossary_problems(notebook: str, entries, glossary, index=None, exceptions=()) -> list[Problem]:
    """Each translated block holds the Korean term of every glossary term its English uses, and the first
    block of the notebook that uses a Korean term writes an English term of that entry within
    ``BESIDE`` characters of it: 기울기 소실(vanishing gradient). A block whose English already holds Korean
    is a quote of the study notes, kept as the notes wrote it (its English gloss is dropped): not held to
    the glossary. ``exceptions``: (msgctxt, english) pairs a reviewer accepted
    (locale/<lang>/glossary-exceptions.tsv: msgctxt<TAB>english<TAB>why)."""
    index = index or {}
    english_of: dict[str, list[str]] = {}
    for en, ko in glossary:
        english_of.setdefault(ko, []).append(en)
    introduced: set[str] = set()
    found = []
    for e in entries:
        if e.obsolete or "fuzzy" in e.flags or not e.msgstr.strip() or _HANGUL.search(e.msgid):
            continue
        for en, ko in terms_in(e.msgid, glossary):
            if (e.msgctxt, en) in exceptions:
                continue
            where = dict(index=index.get(e.msgctxt), cell_id=e.msgctxt)
            if ko not in e.msgstr:
                found.append(Problem(notebook, "glossary", f"{en!r} is {ko!r}, not in {_short(e.msgstr, 80)!r}",
                                     **where))
                continue
            if ko in introduced or is_code_entry(e):
                continue  # a code comment or docstring uses the term; the prose introduces it
            introduced.add(ko)
            near = any(_term(alt).search(e.msgstr[max(0, m.start() - BESIDE):m.end() + BESIDE])
                       for m in re.finditer(re.escape(ko), e.msgstr) for alt in english_of[ko])
            if not near:
                found.append(Problem(notebook, "glossary", f"first use of {ko!r}: write the English beside it "
                                                           f"once, e.g. {ko}({en})", **where))
    return found


def _table_shape(text: str) -> list[int]:
    rows = [line.strip() for line in text.split("\n") if line.strip().startswith("|")]
    return [len(re.findall(r"(?<!\\)\|", r.strip("|"))) + 1 for r in rows]


def markup_problems(notebook: str, entry, index=None) -> list[Problem]:
    """What a translation must keep of its English block: every code span, formula and link target, the
    heading level, a table's rows and columns, and the code fences (of a quote of the Korean study notes,
    the Korean lines' code, formulas and links)."""
    if entry.obsolete or not entry.msgstr.strip():
        return []
    en, ko = entry.msgid, entry.msgstr
    where = dict(index=(index or {}).get(entry.msgctxt), cell_id=entry.msgctxt)
    found = []
    # what would break the code: a comment over two lines, a docstring that ends its string early or
    # escapes something its English does not
    if (entry.msgctxt or "").endswith(COMMENT_CTX) and "\n" in ko:
        found.append(Problem(notebook, "markup", "a comment's translation is one line", **where))
    if (entry.msgctxt or "").endswith(DOCSTRING_CTX) and (
            '"""' in ko or "'''" in ko or ko.endswith(('"', "'")) or ko.count("\\") != en.count("\\")):
        found.append(Problem(notebook, "markup", "a docstring's translation keeps its English's backslashes "
                                                 "and holds no quotes that would end the string", **where))
    # a quote of the Korean study notes keeps its Korean lines and drops the English gloss: only the
    # Korean lines' code, math and links must stay
    kept = "\n".join(ln for ln in en.split("\n") if _HANGUL.search(ln)) if _HANGUL.search(en) else en
    for tok in dict.fromkeys(_TOKENS.findall(kept)):
        if tok not in ko:
            found.append(Problem(notebook, "markup", f"changed or missing code, math or link: {_short(tok, 80)!r}",
                                 **where))
    level = lambda t: len(re.match(r"\s*(#*)", t).group(1))  # noqa: E731
    if level(en) != level(ko):
        found.append(Problem(notebook, "markup", f"heading level {level(en)} in English, {level(ko)} in the "
                                                 f"translation: {_short(ko, 60)!r}", **where))
    if _table_shape(en) != _table_shape(ko):
        found.append(Problem(notebook, "markup", f"table shape (cells per row) {_table_shape(en)} in English, "
                                                 f"{_table_shape(ko)} in the translation", **where))
    if len(_FENCES.findall(en)) != len(_FENCES.findall(ko)):
        found.append(Problem(notebook, "markup", "code fences differ", **where))
    return found


def quality_problems(notebook: Path, po, lang: str = "ko", locale: Path | None = None) -> list[Problem]:
    """The glossary and markup problems of a catalog's translated entries (none for a missing catalog)."""
    import nbformat

    if po is None:
        return []
    nb = nbformat.read(notebook, as_version=4)
    index = _cell_index(nb)
    name = Path(notebook).stem
    entries = [e for e in po if not e.obsolete]
    found = glossary_problems(name, entries, load_glossary(Path(locale or LOCALE) / lang / "glossary.tsv", lang),
                              index, load_exceptions(lang, locale))
    for e in entries:
        found += markup_problems(name, e, index)
    return found


def load_exceptions(lang: str = "ko", locale: Path | None = None) -> set[tuple[str, str]]:
    path = Path(locale or LOCALE) / lang / "glossary-exceptions.tsv"
    if not path.exists():
        return set()
    rows = [line.split("\t") for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")]
    return {(r[0].strip(), r[1].strip()) for r in rows[1:] if len(r) >= 2}


# --- building the translated notebook ----------------------------------------------------------------

def _draft_note(lang: str, n: int) -> str:
    return (f"> ⚠ **번역 초안 (translation draft)**: 이 노트북의 {n}개 블록은 아직 번역되지 않았거나 영어 원문이 "
            f"바뀌어 다시 번역해야 해서 영어로 남아 있다. {n} block(s) of this notebook are shown in English: "
            f"their catalog entry (locale/{lang}/notebooks/) is untranslated or stale.")


def build_notebook(notebook: Path, po, lang: str = "ko", allow_incomplete: bool = False, locale: Path | None = None):
    """The translated notebook of ``notebook`` from its catalog ``po``; returns ``(nb, problems)``.

    Markdown cells are rebuilt block by block (a block without prose is copied); every other cell,
    outputs included, is the English notebook's, except the code cells' comments and docstrings
    (translated) and the
    ``setup_notebook`` call. Raises ValueError
    listing the problems if the catalog is incomplete, fuzzy or out of date, unless ``allow_incomplete``:
    then those blocks stay English, a note at the top says how many, and the metadata lists them.
    """
    import nbformat

    found = problems(notebook, po, lang, locale)
    if found and not allow_incomplete:
        raise ValueError("\n".join(str(p) for p in found))
    nb = nbformat.read(notebook, as_version=4)
    out = copy.deepcopy(nb)
    table = {}
    if po is not None:
        for e in po:
            if not e.obsolete and e.msgstr.strip() and "fuzzy" not in e.flags:
                table[_key(e)] = e.msgstr
    english: list[dict] = []
    for index, cell in enumerate(out.cells):
        if cell.cell_type == "markdown":
            parts = []
            for block, sep in blocks(cell.source):
                if is_prose(block):
                    ko = table.get((cell.id, block))
                    if ko is None:
                        english.append({"cell": index, "id": cell.id, "english": block})
                        ko = block
                    parts.append(ko + sep)
                else:
                    parts.append(block + sep)
            cell.source = "".join(parts)
        elif cell.cell_type == "code":
            for ctx, translate in ((cell.id + COMMENT_CTX, translate_comments),
                                   (cell.id + DOCSTRING_CTX, translate_docstrings)):
                mine = {msgid: ko for (c, msgid), ko in table.items() if c == ctx}
                cell.source, left = translate(cell.source, mine)
                english += [{"cell": index, "id": ctx, "english": text} for text in dict.fromkeys(left)]
            if SETUP_CALL in cell.source:
                cell.source = cell.source.replace(SETUP_CALL, SETUP_CALL[:-1] + f', lang="{lang}")')
    if english:
        note = nbformat.v4.new_markdown_cell(_draft_note(lang, len(english)))
        note["id"] = DRAFT_ID
        out.cells.insert(0, note)
    out.metadata["language"] = lang
    out.metadata["coursekit_translation"] = {
        "lang": lang, "source": _label(notebook), "catalog": _label(catalog_path(notebook, lang, locale)),
        "generated_by": "tools/i18n.py build (do not edit: change the catalog and build again)",
        "untranslated": english,
    }
    nbformat.validate(out)
    return out, found


def _write(nb, target: Path) -> None:
    import nbformat

    text = nbformat.writes(nb)
    text += "" if text.endswith("\n") else "\n"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists() or target.read_text(encoding="utf-8") != text:
        target.write_text(text, encoding="utf-8")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    ex = sub.add_parser("extract", help="write the template (.pot) of each notebook")
    ex.add_argument("notebooks", nargs="+", type=Path)
    ex.add_argument("--lang", default="ko")
    up = sub.add_parser("update", help="re-extract each template and merge it into the notebook's .po")
    ch = sub.add_parser("check", help="list untranslated, fuzzy and out-of-date entries; exit 1 if any")
    ch.add_argument("--allow-missing", action="store_true", help="a notebook without a catalog is not an error")
    bu = sub.add_parser("build", help="write the translated notebooks (generated: never edit them)")
    bu.add_argument("--out", type=Path, help="default: <lang>/notebooks/")
    group = bu.add_mutually_exclusive_group()
    group.add_argument("--allow-incomplete", action="store_true",
                       help="a draft: untranslated or stale blocks stay English, and the notebook says so")
    group.add_argument("--skip-incomplete", action="store_true",
                       help="build only the notebooks whose catalogs are complete; name the others")
    bu.add_argument("--student", type=Path, help="then write their student editions here (tools/make_student.py)")
    for p in (up, ch, bu):
        p.add_argument("notebooks", nargs="*", type=Path, help="default: every notebooks/NN_*.ipynb")
        p.add_argument("--lang", default="ko")
        p.add_argument("--locale", type=Path, default=LOCALE, help="the catalogs' folder (default: locale/)")
    args = parser.parse_args(argv)
    lang = args.lang
    loc = getattr(args, "locale", LOCALE)
    if args.command == "extract":
        for nb in args.notebooks:
            target = template_path(nb, lang)
            target.parent.mkdir(parents=True, exist_ok=True)
            extract(nb).save(str(target))
            print(f"{target.relative_to(ROOT)}: {len(extract(nb))} entries")
        return 0
    notebooks = args.notebooks or course_notebooks()
    if args.command == "update":
        for nb in notebooks:
            template = extract(nb)
            template.save(str(template_path(nb, lang, loc)))
            po = load_catalog(nb, lang, loc)
            if po is None:
                print(f"{_label(template_path(nb, lang, loc))}: {len(template)} entries (no .po yet: copy the template)")
                continue
            merged = merge(po, template)
            merged.save(str(catalog_path(nb, lang, loc)))
            active = [e for e in merged if not e.obsolete]
            fuzzy = sum("fuzzy" in e.flags for e in active)
            empty = sum(not e.msgstr.strip() and "fuzzy" not in e.flags for e in active)
            print(f"{_label(catalog_path(nb, lang, loc))}: {len(active)} entries, {fuzzy} fuzzy, {empty} untranslated, "
                  f"{len(merged) - len(active)} obsolete")
        return 0
    if args.command == "check":
        found = []
        for nb in notebooks:
            po = load_catalog(nb, lang, loc)
            found += [p for p in problems(nb, po, lang, loc) if not (args.allow_missing and p.kind == "missing")]
            found += quality_problems(nb, po, lang, loc)
        for p in found:
            print(p)
        done = len(notebooks) - len({p.notebook for p in found})
        print(f"i18n check ({lang}): {done}/{len(notebooks)} notebooks ready, {len(found)} problem(s)"
              + ("; a translator runs `python tools/i18n.py update`, translates the fuzzy and empty entries "
                 "(any PO editor), then checks again" if found else ""))
        return 1 if found else 0
    # build
    out_dir = args.out or ROOT / lang / "notebooks"
    built, refused = [], []
    for nb in notebooks:
        try:
            ko, found = build_notebook(nb, load_catalog(nb, lang, loc), lang, allow_incomplete=args.allow_incomplete,
                                       locale=loc)
        except ValueError as err:
            refused.append((nb, str(err)))
            continue
        target = out_dir / Path(nb).name
        _write(ko, target)
        built.append(target)
        left = len(ko.metadata["coursekit_translation"]["untranslated"])
        print(f"{_label(target)}" + (f": DRAFT, {left} block(s) still in English" if left else ""))
        if left:
            print(f"warning: {_label(target)} is a draft: {left} block(s) in English", file=sys.stderr)
    for nb, why in refused:
        print(f"{'skipped' if args.skip_incomplete else 'not built'}: {_label(nb)}:", file=sys.stderr)
        for line in why.splitlines():
            print(f"  {line}", file=sys.stderr)
    if refused and not args.skip_incomplete:
        print(f"i18n build: {len(refused)} catalog(s) not ready (see above); nothing of theirs was written. "
              "`python tools/i18n.py check` lists what to translate; --allow-incomplete builds drafts.",
              file=sys.stderr)
        return 1
    if args.student and built:
        sys.path.insert(0, str(ROOT / "tools"))
        import make_student

        reports = make_student.generate(built, args.student, lang=lang)
        for r in reports:
            print(f"{r.target}: {len(r.exercises)} exercise(s)" + (
                " (KEPT your edited copy)" if r.status == "kept-edited" else ""))
    if refused:
        print(f"i18n build: {len(built)} built, {len(refused)} skipped (catalog not ready: listed above)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
