"""The language of what the learner reads from the package: English (the default) or Korean.

Standard gettext. The English text in the code is the message id; the Korean catalog is
``coursekit/locale/ko/LC_MESSAGES/coursekit.po``, compiled to the ``.mo`` beside it (both are
package data; ``tests/test_i18n_messages.py`` checks that the ``.mo`` is the compilation of the
``.po`` and that every message marked here has a Korean entry with the same format fields).

- ``_(text)``: ``text`` in the current language. In English it is ``text`` itself, byte for byte.
- ``ngettext(singular, plural, n)``: the same, for a message that depends on a count.
- ``N_(text)``: marks a message defined ahead of its use (an exercise's hint, a case's label) for
  the catalog and returns it unchanged; the code that shows it passes it through ``_()``.

Messages with fields are written ``_("... {name} ...").format(name=...)``, so a translation may
put the fields in another order; a message built from parts is translated as whole sentences.

The language is one setting for the whole process, set by
``ck.setup_notebook(seed=SEED, lang="ko")`` or :func:`set_language`; nothing else changes it.
"""
from __future__ import annotations

import gettext
from pathlib import Path

__all__ = ["LANGUAGES", "N_", "_", "get_language", "ngettext", "set_language"]

#: The languages the package speaks: code -> name.
LANGUAGES = {"en": "English", "ko": "한국어 (Korean)"}

DOMAIN = "coursekit"
LOCALE_DIR = Path(__file__).resolve().parent / "locale"

_language = "en"
_catalog: gettext.NullTranslations = gettext.NullTranslations()


def _check_language(lang: object) -> str:
    if not isinstance(lang, str):
        raise TypeError(f"lang must be a string, one of {list(LANGUAGES)}; got {type(lang).__name__} {lang!r}")
    code = lang.strip().lower().replace("_", "-")
    code = {"kr": "ko", "ko-kr": "ko", "en-us": "en", "en-gb": "en"}.get(code, code)
    if code not in LANGUAGES:
        raise ValueError(f"lang must be one of {', '.join(repr(k) for k in LANGUAGES)} "
                         f"({', '.join(LANGUAGES.values())}); got {lang!r}")
    return code


def set_language(lang: str = "en") -> str:
    """Set the language of the package's messages for this process; returns its code ("en" or "ko").

    ``"en"`` (the default): the messages as written in the code. ``"ko"``: Korean, from the
    catalog shipped with the package. Claim statements and anything else a notebook passes in
    stay as given. ``ck.setup_notebook(seed=SEED, lang="ko")`` calls this (and also switches
    figures to a font with Korean glyphs).
    """
    global _language, _catalog
    code = _check_language(lang)
    if code == "en":
        catalog: gettext.NullTranslations = gettext.NullTranslations()
    else:
        # fallback=False: a package without its catalog is broken, and should say so, not speak English
        catalog = gettext.translation(DOMAIN, localedir=str(LOCALE_DIR), languages=[code])
    _language, _catalog = code, catalog
    return code


def get_language() -> str:
    """The code of the current language: "en" or "ko"."""
    return _language


def _(message: str) -> str:
    """``message`` in the current language (itself in English)."""
    if not message:  # gettext("") is the catalog's header
        return message
    return _catalog.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    """``singular`` or ``plural`` by ``n``, in the current language."""
    return _catalog.ngettext(singular, plural, n)


def N_(message: str) -> str:
    """Mark ``message`` for the catalog; translated where it is shown, with ``_()``."""
    return message
