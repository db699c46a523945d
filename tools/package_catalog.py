"""The package's own message catalog (what coursekit says to a learner), kept in step with the code.

    python tools/package_catalog.py            # extract, update coursekit/locale/ko/LC_MESSAGES/coursekit.po, compile .mo
    python tools/package_catalog.py --check    # exit 1 if a message lacks a Korean entry or the .mo is stale

Messages are the string literals passed to ``_()``, ``N_()`` and ``ngettext()`` in ``coursekit/`` (read with
``ast``, like ``xgettext``/``pybabel extract`` would). Updating the ``.po`` adds a new message with an empty
translation, keeps every translation whose English is unchanged, and drops messages the code no longer has.
A translator fills in ``msgstr`` (Poedit, or any editor) and runs the script again to compile the ``.mo``.
The notebooks' catalogs are another matter: ``tools/i18n.py``, under ``locale/``.
"""
from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "coursekit"
LANGUAGES = ("ko",)
KEYWORDS = {"_": 1, "N_": 1, "ngettext": 2}  # function name -> how many leading string arguments are msgids


def po_path(lang: str) -> Path:
    return PACKAGE / "locale" / lang / "LC_MESSAGES" / "coursekit.po"


def extract(package: Path = PACKAGE) -> dict[tuple[str, str | None], list[str]]:
    """{(msgid, msgid_plural or None): ["coursekit/x.py:12", ...]} for every marked message, in file order."""
    found: dict[tuple[str, str | None], list[str]] = {}
    for path in sorted(package.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in KEYWORDS):
                continue
            n = KEYWORDS[node.func.id]
            args = node.args[:n]
            if len(args) < n or not all(isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args):
                continue  # _(variable): translates a message marked elsewhere with N_()
            key = (args[0].value, args[1].value if n == 2 else None)
            found.setdefault(key, []).append(f"{path.relative_to(package.parent).as_posix()}:{node.lineno}")
    return found


def update(lang: str) -> tuple[int, int]:
    """Bring the .po of ``lang`` in step with the code and compile its .mo; (messages, untranslated)."""
    import polib

    path = po_path(lang)
    old = polib.pofile(str(path)) if path.exists() else polib.POFile()
    by_id = {(e.msgid, e.msgid_plural or None): e for e in old if not e.obsolete}
    po = polib.POFile(wrapwidth=100)
    po.metadata = old.metadata or {
        "Project-Id-Version": "coursekit", "Language": lang, "Language-Team": "coursekit contributors",
        "Last-Translator": "coursekit contributors", "PO-Revision-Date": "", "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8", "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": "nplurals=1; plural=0;",
    }

    def first_use(item):  # in the order of the code: by file, then line
        file, line = item[1][0].rsplit(":", 1)
        return file, int(line)

    for (msgid, plural), where in sorted(extract().items(), key=first_use):
        entry = by_id.get((msgid, plural))
        if entry is None:
            entry = polib.POEntry(msgid=msgid, msgstr="")
            if plural is not None:
                entry.msgid_plural, entry.msgstr, entry.msgstr_plural = plural, "", {0: ""}
        # where, by file only (like xgettext --add-location=file): line numbers would change the catalog at every edit
        entry.occurrences = [(f, "") for f in dict.fromkeys(w.rsplit(":", 1)[0] for w in where)]
        if "{" in msgid and "python-brace-format" not in entry.flags:
            entry.flags.append("python-brace-format")
        po.append(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    po.save(str(path))
    po.save_as_mofile(str(path.with_suffix(".mo")))
    return len(po), len(po.untranslated_entries()) + len(po.fuzzy_entries())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="only check: every message translated, .mo current")
    args = parser.parse_args(argv)
    if args.check:
        import subprocess

        return subprocess.call([sys.executable, "-m", "pytest", str(ROOT / "tests" / "test_i18n_messages.py"),
                                "-q", "-p", "no:randomly"], cwd=ROOT)
    for lang in LANGUAGES:
        total, missing = update(lang)
        print(f"{po_path(lang).relative_to(ROOT)}: {total} messages, {missing} to translate")
    return 0


if __name__ == "__main__":
    sys.exit(main())
