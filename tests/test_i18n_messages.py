"""What the learner reads from the package, in English and in Korean (coursekit/_i18n.py).

- the catalog: the .mo is the compilation of the .po; every message the code marks (``_()``, ``N_()``,
  ``ngettext()``) has a non-empty, non-fuzzy Korean entry with the same format fields, and the catalog
  holds no message the code no longer has; the Korean uses the glossary's terms (locale/ko/glossary.tsv);
- English stays byte for byte what the code says; ``setup_notebook(lang=)`` checks its argument;
- in Korean: a check's verdict and hint, a claim's framing (its statement as given), fit's and the data
  loaders' common errors, setup's line;
- figures: Korean text draws in NanumGothic with no missing glyph; English changes no font;
- the wheel ships the catalog.
"""
from __future__ import annotations

import importlib.util
import re
import shutil
import string
import subprocess
import sys
import warnings
import zipfile
from pathlib import Path

import polib
import pytest
import torch

import coursekit as ck
from coursekit import _i18n

ROOT = Path(__file__).resolve().parents[1]
PO = ROOT / "coursekit" / "locale" / "ko" / "LC_MESSAGES" / "coursekit.po"
MO = PO.with_suffix(".mo")
HANGUL = re.compile(r"[\uac00-\ud7a3]")


def _tool():
    spec = importlib.util.spec_from_file_location("package_catalog", ROOT / "tools" / "package_catalog.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(autouse=True)
def english_afterwards():
    """Every test leaves the process in English, with matplotlib's own font, whatever it switched to."""
    yield
    ck.set_language("en")


@pytest.fixture(scope="module")
def po():
    return polib.pofile(str(PO))


def _key(entry) -> tuple[str, str | None]:
    return entry.msgid, entry.msgid_plural or None


def _translations(entry) -> list[str]:
    return [entry.msgstr] if not entry.msgid_plural else [entry.msgstr_plural[k] for k in sorted(entry.msgstr_plural)]


def _fields(text: str) -> list[str]:
    return sorted(name for _, name, _, _ in string.Formatter().parse(text) if name is not None)


# --------------------------------------------------------------------------- the catalog


def test_the_mo_is_the_compilation_of_the_po(po):
    compiled = {(e.msgid, e.msgid_plural or None): _translations(e) for e in polib.mofile(str(MO)) if e.msgid}
    source = {_key(e): _translations(e) for e in po.translated_entries()}
    assert compiled == source, ("coursekit.mo differs from coursekit.po: run `python tools/package_catalog.py` "
                                f"({len(set(compiled) ^ set(source))} messages differ)")
    assert polib.mofile(str(MO)).metadata.get("Plural-Forms") == po.metadata.get("Plural-Forms")


def test_every_marked_message_has_a_korean_entry_and_nothing_else_is_there(po):
    marked = _tool().extract()
    assert len(marked) > 400, "the extraction should find the package's messages"
    entries = {_key(e): e for e in po if not e.obsolete}
    missing = [m for m in marked if m not in entries]
    assert not missing, f"{len(missing)} messages have no entry (run tools/package_catalog.py), e.g. {missing[:3]}"
    empty = [k for k, e in entries.items() if k in marked and (not all(_translations(e)) or e.fuzzy)]
    assert not empty, f"{len(empty)} messages are untranslated or fuzzy, e.g. {empty[:3]}"
    stale = [k for k in entries if k not in marked]
    assert not stale, f"{len(stale)} entries are for messages the code no longer has, e.g. {stale[:3]}"


def test_translations_keep_the_format_fields(po):
    for entry in po:
        for text in _translations(entry):
            assert _fields(text) == _fields(entry.msgid), (entry.msgid, text)
        if entry.msgid_plural:
            assert _fields(entry.msgid_plural) == _fields(entry.msgid), entry.msgid


def test_translations_are_korean(po):
    for entry in po:
        text = _translations(entry)[0]
        english_words = re.sub(r"`[^`]*`|\{[^}]*\}|'[^']*'", " ", entry.msgid)
        if HANGUL.search(text) is None:  # only messages that are code, names or punctuation stay as they are
            assert not re.search(r"\b(the|is|are|of|and|to)\b", english_words), (entry.msgid, text)


def _glossary() -> list[tuple[str, str]]:
    rows = [line.rstrip("\n").split("\t") for line in
            (ROOT / "locale" / "ko" / "glossary.tsv").read_text(encoding="utf-8").splitlines()
            if line and not line.startswith("#")]
    return sorted(((en, ko) for en, ko in rows[1:]), key=lambda r: -len(r[0]))


def _prose(text: str) -> str:
    """The English a learner reads as words: no `code`, 'quoted names', {fields}, or tokens like f(x), a_b, x.y."""
    text = re.sub(r"`[^`]*`|'[^']*'|\{[^}]*\}", " ", text)
    return " ".join(w for w in text.split() if not re.search(r"[()_.=*\[\]/@<>]", w)).lower()


def _glossary_problems(pairs) -> list[str]:
    """The glossary terms of each (English, Korean) pair that the Korean does not render with the glossary's term."""
    problems = []
    for english, korean in pairs:
        english = _prose(english)
        for term, ko in _glossary():
            pattern = r"(?<![a-z])" + re.escape(term.lower()) + r"(?![a-z])"
            if re.search(pattern, english):
                english = re.sub(pattern, " ", english)  # "gradient descent" is not held to "gradient" too
                if ko not in korean and not re.search(pattern, korean.lower()):
                    problems.append(f"{term!r} should be {ko!r}: {english[:50]!r} -> {korean[:60]!r}")
    return problems


def test_translations_use_the_glossary_terms(po):
    """One Korean term per English term; a term the translation keeps as it is (a parameter's name such
    as ``momentum``, an activation's name such as ``sigmoid``) is code, not prose."""
    problems = _glossary_problems((e.msgid, _translations(e)[0]) for e in po)
    assert not problems, "\n".join(problems)


def test_the_glossary_check_catches_another_term():
    assert _glossary_problems([("the gradient vanishes with depth", "깊어질수록 기울기가 사라집니다")]) == []
    assert len(_glossary_problems([("the gradient vanishes with depth", "깊어질수록 그래디언트가 사라집니다")])) == 1
    assert _glossary_problems([("use gradient descent", "경사 하강법을 쓰세요")]) == []


# --------------------------------------------------------------------------- English unchanged, the argument


def test_english_is_the_code_text_byte_for_byte():
    ck.set_language("en")
    for msgid, plural in _tool().extract():
        if plural is None:
            assert _i18n._(msgid) is msgid
        else:
            assert _i18n.ngettext(msgid, plural, 1) == msgid and _i18n.ngettext(msgid, plural, 2) == plural


def test_english_check_and_claim_lines_as_before(capsys):
    ck.setup_notebook(seed=0)
    assert capsys.readouterr().out == "coursekit 0.1.0 | seed 0 | 1 thread | device cpu\n"
    result = ck.exercises.check("sigmoid_derivative", lambda z: torch.sigmoid(z), quiet=True)
    assert result.message == (
        "✗ sigmoid_derivative: 0/5 cases match; case 1 (z = 0, where the derivative is largest): expected 0.25, "
        "got 0.5. Hint: that is sigmoid(z) itself; its derivative is sigmoid(z) * (1 - sigmoid(z)).")
    runs = ck.claims.over_seeds(lambda s: {"a": 1.0 + s}, [0, 1, 2])
    assert ck.claims.claim("a stays above 0.5", runs, lambda r: r["a"] > 0.5, quiet=True).line == (
        "✓ a stays above 0.5: on 3/3 seeds and on the mean")


@pytest.mark.parametrize("bad, error", [("fr", ValueError), ("", ValueError), (None, TypeError), (1, TypeError)])
def test_a_bad_lang_names_the_argument_what_it_got_and_what_is_allowed(bad, error):
    with pytest.raises(error) as info:
        ck.setup_notebook(seed=0, lang=bad, quiet=True)
    text = str(info.value)
    assert text.startswith("lang must be") and repr(bad) in text and "'en'" in text and "'ko'" in text
    assert _i18n.get_language() == "en", "a refused lang leaves the language as it was"


def test_lang_codes_that_mean_korean():
    for code in ("ko", "KO", "ko_KR", "ko-KR"):
        ck.set_language(code)
        assert _i18n.get_language() == "ko"
        ck.set_language("en")


# --------------------------------------------------------------------------- Korean


def test_setup_notebook_switches_the_package_to_korean(capsys):
    ck.setup_notebook(seed=3, threads=2, lang="ko")
    assert capsys.readouterr().out == "coursekit 0.1.0 | 시드 3 | 스레드 2개 | 장치 cpu\n"
    assert _i18n.get_language() == "ko"
    ck.setup_notebook(seed=3, quiet=True)  # the default is English again
    assert _i18n.get_language() == "en"
    torch.set_num_threads(1)


def test_a_check_speaks_korean():
    ck.set_language("ko")
    wrong = ck.exercises.check("sigmoid_derivative", lambda z: torch.sigmoid(z), quiet=True)
    assert wrong.message == (
        "✗ sigmoid_derivative: 사례 5개 중 0개 일치. 사례 1(z = 0, 도함수가 가장 큰 곳): 0.25을(를) 기대했지만 "
        "0.5을(를) 받았습니다. 힌트: 그것은 sigmoid(z) 자체입니다. 그 도함수는 sigmoid(z) * (1 - sigmoid(z))입니다.")
    assert wrong.hint.startswith("그것은")
    right = ck.exercises.check("sigmoid_derivative", lambda z: torch.sigmoid(z) * (1 - torch.sigmoid(z)), quiet=True)
    assert right.message == "✓ sigmoid_derivative: 사례 5개 중 5개 일치"
    assert HANGUL.search(ck.exercises.check("sigmoid_derivative", None, quiet=True).message)
    assert "연습 문제" in ck.exercises.check("no_such_exercise", len, quiet=True).message
    assert HANGUL.search(ck.exercises.describe("relu_grad").splitlines()[1]), "the task in Korean"


def test_every_exercise_task_and_case_label_is_translated():
    ck.set_language("ko")
    for ex in ck.exercises.EXERCISES.values():
        for text in (ex.instructions, ex.hint, *(c.label for c in ex.cases), *(m.hint for m in ex.mistakes)):
            assert _i18n._(text) != text or not re.search(r"[a-z]{4,} [a-z]{4,}", text), (ex.name, text)


def test_a_claim_keeps_its_statement_and_frames_it_in_korean(capsys):
    ck.set_language("ko")
    runs = ck.claims.over_seeds(lambda s: {"a": 1.0 + s}, [0, 1, 2])
    held = ck.claims.claim("a는 0.5보다 크다", runs, lambda r: ck.claims.above(r["a"], 0.5))
    assert held.line == "✓ a는 0.5보다 크다: 시드 3/3개와 평균에서 성립"
    statement = "a stays above 1.5"  # a statement comes from the notebook and stays as given
    failed = ck.claims.claim(statement, runs, lambda r: ck.claims.above(r["a"], 1.5), quiet=True)
    assert failed.line == f"✗ {statement}: 여기서는 성립하지 않음 (시드 2/3개와 평균에서 성립)"
    assert failed.why.startswith(f"기대한 결과: {statement}, 모든 시드와 평균에서; 성립하지 않는 곳: 시드 0")
    assert capsys.readouterr().out == held.line + "\n"


def test_the_common_errors_of_fit_and_of_the_data_loaders_in_korean():
    from coursekit.models import mlp
    from coursekit.train import fit

    ck.set_language("ko")
    with pytest.raises(ValueError, match=r"^data\[0\] \(x_train\)의 shape은 \(examples, 10\)"):
        fit(mlp([10, 3]), (torch.zeros(4, 8), torch.zeros(4, dtype=torch.long)), epochs=1)
    with pytest.raises(ValueError, match=r"^epochs은\(는\) >= 1이어야 합니다. 받은 값: -1$"):
        fit(mlp([10, 3]), (torch.zeros(4, 10), torch.zeros(4, dtype=torch.long)), epochs=-1)
    with pytest.raises(TypeError, match="정수\\(torch.int64\\)"):
        fit(mlp([10, 3]), (torch.zeros(4, 10), torch.zeros(4)), epochs=1)
    with pytest.raises(ValueError, match=r"^알 수 없는 name 'digitz'입니다\. .*혹시 'digits'을\(를\) 뜻했나요\?$"):
        ck.data.load("digitz")
    with pytest.raises(ValueError, match="^val_fraction은"):
        ck.data.load_digits(val_fraction=0.9)


def test_mnist_without_its_files_says_what_to_do_in_korean(tmp_path):
    ck.set_language("ko")
    with pytest.raises(ck.data.DatasetUnavailableError) as info:
        ck.data.load("mnist", root=tmp_path, download=False)
    text = str(info.value)
    assert text.startswith("mnist을(를) 쓸 수 없습니다: train-images-idx3-ubyte.gz이(가) 없습니다; ")
    assert f"{tmp_path / 'mnist'}에 직접 넣고 다시 호출하세요:\n  train-images-idx3-ubyte.gz\n" in text


def test_a_diverged_run_explains_itself_in_korean():
    from coursekit.models import mlp
    from coursekit.train import DivergedError, fit

    ck.set_language("ko")
    with pytest.raises(DivergedError) as info:
        fit(mlp([4, 8, 1]), (torch.ones(8, 4), torch.ones(8, 1)), optimizer="sgd", lr=1e30, epochs=20, batch_size=2,
            loss="mse", progress=False)
    text = str(info.value)
    assert text.startswith("훈련 손실이 에포크 ") and "가능한 원인" in text and "nan_policy='stop'" in text, text


# --------------------------------------------------------------------------- figures


def _draw(title: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots()
    ax.plot([0, 1], [-1, 1])
    ax.set_title(title)
    ax.set_xlabel("에포크")
    ax.set_ylabel("검증 정확도 (−1 … 1)")
    fig.canvas.draw()
    plt.close(fig)


def test_korean_figure_text_draws_with_no_missing_glyph():
    ck.set_language("ko")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # "Glyph ... missing from font(s)" is a UserWarning
        _draw("기울기 소실: 시그모이드 vs ReLU")


def test_in_english_korean_text_would_miss_glyphs():
    """The test above can fail: without the Korean font, matplotlib warns about every Hangul glyph."""
    ck.set_language("en")
    with pytest.warns(UserWarning, match="missing from font"):
        _draw("기울기 소실")


def test_english_changes_no_font():
    """In a fresh process, an English notebook's set-up leaves matplotlib's fonts as they are."""
    code = (
        "import matplotlib, sys\n"
        "from matplotlib import font_manager\n"
        "before = (list(matplotlib.rcParams['font.family']), list(matplotlib.rcParams['font.sans-serif']),\n"
        "          len(font_manager.fontManager.ttflist))\n"
        "import coursekit as ck\n"
        "ck.setup_notebook(seed=0, quiet=True)\n"
        "after = (list(matplotlib.rcParams['font.family']), list(matplotlib.rcParams['font.sans-serif']),\n"
        "         len(font_manager.fontManager.ttflist))\n"
        "assert before == after, (before, after)\n"
        "assert 'koreanize_matplotlib' not in sys.modules\n"
        "ck.setup_notebook(seed=0, quiet=True, lang='ko')\n"
        "assert matplotlib.rcParams['font.family'][0] == 'NanumGothic'\n"
        "ck.setup_notebook(seed=0, quiet=True)\n"
        "assert list(matplotlib.rcParams['font.family']) == before[0], matplotlib.rcParams['font.family']\n"
        "print('ok')\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr[-2000:]


# --------------------------------------------------------------------------- the wheel


@pytest.mark.slow
def test_the_wheel_ships_the_catalog(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(ROOT / name, src / name)
    shutil.copytree(ROOT / "coursekit", src / "coursekit", ignore=shutil.ignore_patterns("__pycache__"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q",
                    ".", "-w", str(tmp_path / "dist")], cwd=src, check=True, capture_output=True, timeout=300)
    wheel = next((tmp_path / "dist").glob("*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    for path in ("coursekit/locale/ko/LC_MESSAGES/coursekit.mo", "coursekit/locale/ko/LC_MESSAGES/coursekit.po",
                 "coursekit/claims_ledger.json"):
        assert path in names, f"{path} is not in {wheel.name}"
