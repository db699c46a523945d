"""Helpers for ``tests/test_browser.py``: find widget notebooks, run a throw-away JupyterLab.

Nothing here is a test. The browser test needs two things that a plain
``make test`` machine may lack; :func:`missing_requirements` says which and how
to install them:

- Chromium at ``/usr/bin/chromium`` (Debian: ``apt-get install -y chromium``),
  or another Chromium/Chrome named by ``COURSEKIT_CHROMIUM``;
- Playwright's Python package (``pip install -e '.[test]'``). Playwright only
  drives that Chromium: never run ``playwright install``, no browser is downloaded.
"""
from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = Path(os.environ.get("COURSEKIT_CHROMIUM", "/usr/bin/chromium"))
# Headless, as root in a container, and quiet: no GPU, no sandbox (root), no
# calls home (component updates, sync, QUIC, background networking).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]

# A cell that shows a class widget: tagged nbval-ignore-output (CONTRIBUTING.md,
# rule 8) and building one with coursekit's helper or with ipywidgets directly.
_WIDGET_SOURCE = re.compile(
    r"\binteractive_figure\s*\(|\bipywidgets\b|\bwidgets\.(IntSlider|FloatSlider|Dropdown|interact\w*)\s*\("
)
_IGNORE_TAGS = {"nbval-ignore-output", "NBVAL_IGNORE_OUTPUT"}


def missing_requirements() -> str | None:
    """Why the browser test cannot run here, with the exact install command; None if it can."""
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        return (
            f"the browser test needs Chromium at {CHROMIUM}: on Debian/Ubuntu install it with "
            "`sudo apt-get install -y chromium` (elsewhere set COURSEKIT_CHROMIUM=/path/to/chromium); "
            "then run `make browser-test`. Do not run `playwright install`: no downloaded browser is used."
        )
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return (
            "the browser test needs Playwright's Python package: `.venv/bin/pip install -e '.[test]'` "
            "(or `.venv/bin/pip install playwright`). Do not run `playwright install`: the test drives "
            f"the system Chromium at {CHROMIUM}."
        )
    return None


def is_widget_cell(cell: dict[str, Any]) -> bool:
    """True for a code cell tagged nbval-ignore-output whose source builds a widget."""
    if cell.get("cell_type") != "code":
        return False
    tags = set(cell.get("metadata", {}).get("tags", []))
    source = cell.get("source", "")
    source = "".join(source) if isinstance(source, list) else source
    has_marker = any(line.strip() in ("# NBVAL_IGNORE_OUTPUT",) for line in source.splitlines())
    return bool((tags & _IGNORE_TAGS or has_marker) and _WIDGET_SOURCE.search(source))


def widget_cell_count(path: Path) -> int:
    """How many widget cells (see :func:`is_widget_cell`) the notebook at ``path`` has."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return sum(is_widget_cell(c) for c in nb.get("cells", []))


def widget_notebooks(folder: Path) -> list[Path]:
    """The course notebooks (``NN_*.ipynb``) in ``folder`` that show at least one widget, sorted."""
    found = []
    for path in sorted(Path(folder).glob("[0-9]*.ipynb")):
        try:
            if widget_cell_count(path) > 0:
                found.append(path)
        except (OSError, ValueError):
            continue  # unreadable notebook: nbval reports it; collection must not break here
    return found


def copy_notebooks(src: Path, dst: Path) -> Path:
    """Copy ``src`` to ``dst`` and clear every copied notebook's outputs and widget state.

    The browser run works on this copy, so it never touches committed notebooks;
    cleared outputs mean that everything the test sees on screen was produced by
    this run (no stale saved figure or saved widget state can pass for a live one).
    """
    shutil.copytree(src, dst, ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    for path in dst.rglob("*.ipynb"):
        nb = json.loads(path.read_text(encoding="utf-8"))
        for cell in nb.get("cells", []):
            if cell.get("cell_type") == "code":
                cell["outputs"] = []
                cell["execution_count"] = None
        nb.get("metadata", {}).pop("widgets", None)
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return dst


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLab:
    """A JupyterLab server of this environment on 127.0.0.1, isolated in a temporary folder.

    ``sys.executable -m jupyter lab`` with a random free port and a random token;
    user config, lab settings, workspaces, runtime files, user data (kernels,
    extensions) and IPython profile all live under ``home``, so the user's own
    set-up cannot leak in and a learner's fresh ``pip install`` is what runs:
    the ipywidgets front end comes from the environment's ``share/jupyter``.
    Use as a context manager; :meth:`stop` kills the server's process group
    whatever happened.
    """

    def __init__(self, root_dir: Path, home: Path, startup_timeout: float = 120.0,
                 extra_args: list[str] | None = None) -> None:
        self.root_dir = Path(root_dir)
        self.extra_args = list(extra_args or [])  # e.g. --LabApp.app_settings_dir=... (the Korean edition)
        self.home = Path(home)
        self.startup_timeout = startup_timeout
        self.port = free_port()
        self.token = secrets.token_hex(16)
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = self.home / "jupyterlab.log"
        self.proc: subprocess.Popen | None = None

    # -- life cycle
    def environment(self) -> dict[str, str]:
        env = dict(os.environ)
        for var, sub in [
            ("JUPYTER_CONFIG_DIR", "config"),
            ("JUPYTERLAB_SETTINGS_DIR", "lab-settings"),
            ("JUPYTERLAB_WORKSPACES_DIR", "lab-workspaces"),
            ("JUPYTER_RUNTIME_DIR", "runtime"),
            ("JUPYTER_DATA_DIR", "data"),
            ("IPYTHONDIR", "ipython"),
        ]:
            path = self.home / sub
            path.mkdir(parents=True, exist_ok=True)
            env[var] = str(path)
        env.pop("JUPYTER_PATH", None)
        env.pop("JUPYTER_CONFIG_PATH", None)
        env["JUPYTER_PREFER_ENV_PATH"] = "1"
        # No toast asking to fetch Jupyter news, and no update check: a test never calls home.
        settings = self.home / "lab-settings" / "@jupyterlab" / "apputils-extension"
        settings.mkdir(parents=True, exist_ok=True)
        (settings / "notification.jupyterlab-settings").write_text(
            json.dumps({"fetchNews": "false", "checkForUpdates": False}), encoding="utf-8"
        )
        return env

    def start(self) -> JupyterLab:
        cmd = [
            sys.executable, "-m", "jupyter", "lab",
            "--no-browser",
            "--ip=127.0.0.1",
            f"--port={self.port}",
            "--port-retries=0",
            f"--IdentityProvider.token={self.token}",
            f"--ServerApp.root_dir={self.root_dir}",
            "--ServerApp.open_browser=False",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
            "--LabApp.extension_manager=readonly",
            "--LabApp.news_url=",
            *self.extra_args,
        ]
        if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
            cmd.append("--allow-root")
        self.home.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "wb")  # noqa: SIM115 (closed in stop)
        self._log = log
        self.proc = subprocess.Popen(
            cmd, cwd=self.root_dir, env=self.environment(), stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with code {self.proc.returncode}:\n{self.log_tail()}")
            try:
                self.api("/api/status")
                return self
            except (urllib.error.URLError, ConnectionError, OSError):
                time.sleep(0.5)
        raise TimeoutError(f"JupyterLab did not answer /api/status in {self.startup_timeout:.0f} s:\n"
                           f"{self.log_tail()}")

    def stop(self) -> None:
        """Shut kernels down, then end the server: SIGTERM to its process group, SIGKILL if it lingers."""
        if self.proc is None:
            return
        with contextlib.suppress(Exception):  # stopping goes on whatever the API says
            if self.proc.poll() is None:
                self.shutdown_kernels()
        for sig, wait in ((signal.SIGTERM, 15.0), (signal.SIGKILL, 5.0)):
            if self.proc.poll() is not None:
                break
            try:
                os.killpg(self.proc.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.proc.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
        try:  # anything left in the group (the server's children)
            os.killpg(self.proc.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        self._log.close()
        self.proc = None

    def __enter__(self) -> JupyterLab:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- REST API
    def api(self, path: str, method: str = "GET", timeout: float = 10.0) -> Any:
        req = urllib.request.Request(self.url + path, method=method,
                                     headers={"Authorization": f"token {self.token}"})
        with urllib.request.urlopen(req, timeout=timeout) as resp:  # loopback only
            body = resp.read()
        return json.loads(body) if body else None

    def kernels(self, tries: int = 10) -> list[dict[str, Any]]:
        """The server's kernels. jupyter_server can answer 500 to this list while a kernel is starting
        (its model is not complete yet: seen once in CI), so a 5xx is asked again, half a second apart;
        one that persists raises with the server's log."""
        last = None
        for _ in range(tries):
            try:
                return self.api("/api/kernels")
            except urllib.error.HTTPError as err:
                if err.code < 500:
                    raise
                last = err
                time.sleep(0.5)
        raise AssertionError(f"GET /api/kernels should answer 200; it answered {last.code} {last.reason} "
                             f"{tries} times\n{self.log_tail()}") from last

    def shutdown_kernels(self) -> None:
        for session in self.api("/api/sessions"):
            self.api(f"/api/sessions/{session['id']}", method="DELETE", timeout=30)
        for kernel in self.kernels():
            self.api(f"/api/kernels/{kernel['id']}", method="DELETE", timeout=30)

    def lab_url(self, notebook: str) -> str:
        """Open ``notebook`` in a fresh workspace (``reset``: no tab of an earlier test comes back)."""
        return f"{self.url}/lab/tree/{notebook}?reset&token={self.token}"

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])


# --- Korean text (the Korean edition's browser test, tests/test_browser_ko.py) ----------------------

def system_korean_fonts() -> list[str]:
    """The font families fontconfig offers for Korean here (empty when Chromium would draw boxes)."""
    if shutil.which("fc-list") is None:
        return []
    out = subprocess.run(["fc-list", ":lang=ko", "family"], capture_output=True, text=True, timeout=60)
    return sorted({line.split(",")[0].strip() for line in out.stdout.splitlines() if line.strip()})


def packaged_korean_font_dir() -> Path | None:
    """The folder of NanumGothic as koreanize-matplotlib ships it (the font of coursekit's Korean figures)."""
    try:
        import importlib.util

        spec = importlib.util.find_spec("koreanize_matplotlib")
    except (ImportError, ValueError):
        return None
    if spec is None or spec.origin is None:
        return None
    fonts = Path(spec.origin).parent / "fonts"
    return fonts if any(fonts.glob("*.ttf")) else None


def fontconfig_file(home: Path, font_dirs: list[Path], include_system: bool = True) -> Path:
    """A private fontconfig file (for FONTCONFIG_FILE): the system's fonts, if asked, plus ``font_dirs``.

    How the test gives Chromium a Korean font where the machine has none: no package is installed and
    nothing of the system is changed; the cache lives under ``home``.
    """
    home.mkdir(parents=True, exist_ok=True)
    lines = ['<?xml version="1.0"?>', '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">', "<fontconfig>"]
    if include_system:
        lines.append('  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>')
    lines += [f"  <dir>{d}</dir>" for d in font_dirs]
    lines += [f"  <cachedir>{home / 'fontconfig-cache'}</cachedir>", "</fontconfig>", ""]
    path = home / "fonts.conf"
    path.write_text("\n".join(lines), encoding="utf-8")
    return path


def korean_font_environment(home: Path) -> tuple[dict[str, str] | None, str]:
    """The environment Chromium needs to draw Korean, and where the font comes from; ``(None, why)``
    when there is none (the test then skips with the two ways to get one)."""
    env = dict(os.environ)
    system = system_korean_fonts()
    if system:
        return env, f"system font {system[0]}"
    packaged = packaged_korean_font_dir()
    if packaged is not None:
        env["FONTCONFIG_FILE"] = str(fontconfig_file(home, [packaged]))
        return env, f"NanumGothic from koreanize-matplotlib ({packaged.name}/ given to Chromium by FONTCONFIG_FILE)"
    return None, ("no Korean font for Chromium: `fc-list :lang=ko` is empty and koreanize-matplotlib (which "
                  "ships NanumGothic) is not installed; install either (Debian: `apt-get install -y fonts-nanum`)")


# Which Hangul characters an element's font cannot draw: each distinct character is drawn on a canvas in
# the element's computed font and compared with a character no font has (U+10FFFD, drawn as the
# fallback box) and with nothing drawn at all; Chromium's font fallback is the same for canvas and page.
MISSING_GLYPHS_JS = r"""(selector) => {
  const c = document.createElement('canvas'); c.width = 48; c.height = 48;
  const g = c.getContext('2d', {willReadFrequently: true});
  const draw = (font, ch) => {
    g.clearRect(0, 0, 48, 48); g.font = font; g.fillStyle = '#000'; g.textBaseline = 'top';
    if (ch) g.fillText(ch, 4, 4);
    return g.getImageData(0, 0, 48, 48).data.join(',');
  };
  const byFont = new Map();
  for (const el of document.querySelectorAll(selector)) {
    const text = [...el.childNodes].filter(n => n.nodeType === 3).map(n => n.textContent).join('');
    const hangul = text.match(/[가-힣ㄱ-ㆎ]/g);
    if (!hangul || !el.getClientRects().length) continue;
    const s = getComputedStyle(el);
    const font = `${s.fontStyle} ${s.fontWeight} 24px ${s.fontFamily}`;
    if (!byFont.has(font)) byFont.set(font, new Set());
    hangul.forEach(ch => byFont.get(font).add(ch));
  }
  const missing = [], checked = [];
  for (const [font, chars] of byFont) {
    const box = draw(font, String.fromCodePoint(0x10FFFD)), blank = draw(font, '');
    for (const ch of [...chars].slice(0, 400)) {
      const p = draw(font, ch);
      checked.push(ch);
      if (p === box || p === blank) missing.push(`${ch} (${font})`);
    }
  }
  return {checked: checked.length, fonts: [...byFont.keys()], missing};
}"""
