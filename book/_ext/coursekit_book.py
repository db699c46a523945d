"""Sphinx extension of the course book (tools/build_book.py): Korean search and MathJax from the site.

1. **Korean search.** Sphinx has no search language for Korean: ``html_search_language = "ko"`` falls
   back to English, which indexes whole space-separated words (어절). Korean glues particles and endings
   to the word: the page says "초기화는", "초기화를", "초기화에서", and a reader who searches "초기화"
   finds only what Sphinx's partial match (3 characters and more) catches, "배치" (2) nothing at all.
   :class:`SearchKorean` indexes every Hangul run with each of its prefixes as well ("초기화는" ->
   초, 초기, 초기화, 초기화는), so the stem the reader types is a word of the index whatever particle
   follows it; Latin words in Korean text (ReLU, Xavier) are stemmed as in English, and a run of Latin
   letters glued to Hangul ("ReLU를") is split into both. The search page splits and stems the query the
   same way (``js_splitter_code``, ``js_stemmer_code``). tests/test_book.py searches a Korean term in a
   Korean fixture book in Chromium.
2. **MathJax without a CDN.** MathJax 3 comes from the ``sphinx-mathjax-offline`` package (the files it
   ships), but only the part a page loads: ``tex-chtml.js``, its fonts and the TeX extensions it loads on
   demand (about 3.5 MB instead of the package's 24 MB, copied into each language's ``_static``).
"""
from __future__ import annotations

import importlib.util
import re
import shutil
from pathlib import Path

import snowballstemmer
from sphinx.search import SearchLanguage
from sphinx.search._stopwords.en import ENGLISH_STOPWORDS

_HANGUL = "\u1100-\u11ff\u3130-\u318f\uac00-\ud7af"
_RUNS = re.compile(rf"[{_HANGUL}]+|[^\W{_HANGUL}]+")
_HAS_HANGUL = re.compile(rf"[{_HANGUL}]")
_WORDS = re.compile(r"\w+")
_JS_DIR = Path(importlib.util.find_spec("sphinx.search").origin).parent / "minified-js"


def korean_terms(text: str) -> list[str]:
    """The index terms of ``text``: words cut at script changes, each Hangul run with all its prefixes."""
    out: list[str] = []
    for word in _WORDS.findall(text):
        for run in _RUNS.findall(word):
            if _HAS_HANGUL.match(run):
                out.extend(run[:k] for k in range(1, len(run) + 1))
            else:
                out.append(run)
    return out


class SearchKorean(SearchLanguage):
    lang = "ko"
    language_name = "Korean"
    stopwords = ENGLISH_STOPWORDS  # for the English words in Korean text; Korean has none here
    js_splitter_code = rf"""
function splitQuery(query) {{
  return query
    .split(/[^\p{{Letter}}\p{{Number}}_\p{{Emoji_Presentation}}]+/gu)
    .flatMap((word) => word.match(/[{_HANGUL}]+|[^{_HANGUL}]+/gu) || [])
    .filter((term) => term);
}}
"""
    js_stemmer_code = "\n".join((
        (_JS_DIR / "base-stemmer.js").read_text(encoding="utf-8"),
        (_JS_DIR / "english-stemmer.js").read_text(encoding="utf-8"),
        rf"""
var Stemmer = function () {{
  var english = new EnglishStemmer();
  this.stemWord = function (w) {{
    return /[{_HANGUL}]/u.test(w) ? w : english.stemWord(w);
  }};
}};
""",
    ))

    def __init__(self, options: dict[str, str]) -> None:
        super().__init__(options)
        self.stemmer = snowballstemmer.stemmer("english")

    def split(self, input: str) -> list[str]:  # noqa: A002 (Sphinx's signature)
        return korean_terms(input)

    def stem(self, word: str) -> str:
        word = word.lower()
        return word if _HAS_HANGUL.search(word) else self.stemmer.stemWord(word)


# What a page of the book loads of MathJax 3 (tex-chtml.js and what it fetches on demand).
MATHJAX_PARTS = ("tex-chtml.js", "output/chtml", "input/tex/extensions", "ui", "a11y", "adaptors")


def mathjax_source() -> Path:
    spec = importlib.util.find_spec("sphinx-mathjax-offline")
    if spec is None or spec.origin is None:
        raise RuntimeError("the book needs the sphinx-mathjax-offline package (pip install -e '.[book]')")
    return Path(spec.origin).parent / "static" / "mathjax"


def _copy_mathjax(app, exc) -> None:
    if exc is not None or app.builder.format != "html":
        return
    src, dst = mathjax_source(), Path(app.outdir) / "_static" / "mathjax"
    for part in MATHJAX_PARTS:
        if (src / part).is_dir():
            shutil.copytree(src / part, dst / part, dirs_exist_ok=True)
        else:
            dst.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src / part, dst / part)


def setup(app):
    app.add_search_language(SearchKorean)
    app.config.mathjax_path = "mathjax/tex-chtml.js"
    app.connect("build-finished", _copy_mathjax)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
