"""Helpers for ``tests/test_hub.py``: a throw-away JupyterHub on 127.0.0.1 and learners that use it.

Nothing here is a test. The hub test needs what a plain ``make test`` machine may
lack; :func:`missing_requirements` says which, with the command that installs it:

- ``jupyterhub`` and ``nbgitpuller`` (Python, the ``[hub]`` extra: ``pip install -e '.[hub]'``);
- ``configurable-http-proxy`` (npm) and Node.js to run it: Debian's ``nodejs`` and ``npm``, then
  ``npm install --prefix .ci-tools configurable-http-proxy`` (``.ci/run`` and ``make hub-test`` do it);
- ``git``.

Everything listens on 127.0.0.1 on free ports chosen at random, lives in one
temporary folder, and carries one marker in its environment
(``COURSEKIT_HUB_TEST``) so that :func:`kill_marked` finds and ends every process
the test started, even one whose parent has already gone.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlencode

ROOT = Path(__file__).resolve().parents[1]
CHP_INSTALL = "npm install --prefix .ci-tools configurable-http-proxy"
NODE_INSTALL = "sudo apt-get install -y nodejs npm"
MARKER_VAR = "COURSEKIT_HUB_TEST"
# No proxy, ever: every request of the test goes to 127.0.0.1.
NO_PROXY_ENV = {"NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}
PROXY_VARS = ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy")


def find_chp() -> Path | None:
    """configurable-http-proxy: on PATH, or where ``.ci/run`` / ``make hub-test`` install it."""
    for candidate in (os.environ.get("COURSEKIT_CHP"), shutil.which("configurable-http-proxy"),
                      ROOT / ".ci-tools" / "node_modules" / ".bin" / "configurable-http-proxy"):
        if candidate and Path(candidate).is_file() and os.access(candidate, os.X_OK):
            return Path(candidate)
    return None


def missing_requirements() -> str | None:
    """Why the hub test cannot run here, with the exact install command; None if it can."""
    for module in ("jupyterhub", "nbgitpuller", "requests", "websocket", "psutil"):
        try:
            __import__(module)
        except ImportError:
            return (f"the hub test needs the Python package {module!r}: `.venv/bin/pip install -e '.[hub,test]'` "
                    "(`make hub-test` installs it)")
    if not Path("/proc/self/environ").exists():
        return "the hub test needs Linux (it finds its processes through /proc)"
    if shutil.which("git") is None:
        return "the hub test needs git: `sudo apt-get install -y git`"
    if shutil.which("node") is None and shutil.which("nodejs") is None:
        return (f"the hub test needs Node.js for JupyterHub's proxy: `{NODE_INSTALL}`, then `{CHP_INSTALL}` "
                "(or `make hub-test`, which runs the npm step)")
    chp = find_chp()
    if chp is None:
        return (f"the hub test needs JupyterHub's proxy, configurable-http-proxy (npm): `{CHP_INSTALL}` "
                "(or `make hub-test`); Node.js is already here")
    try:
        out = subprocess.run([str(chp), "--version"], capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as err:
        return f"configurable-http-proxy at {chp} does not run ({err}); reinstall it: `{CHP_INSTALL}`"
    if out.returncode != 0:
        return f"configurable-http-proxy at {chp} does not run: {out.stderr.strip()[-300:]}; reinstall: `{CHP_INSTALL}`"
    return None


def free_ports(n: int) -> list[int]:
    """``n`` distinct free TCP ports on 127.0.0.1 (held open together, so they differ)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _environ(pid: int) -> dict[str, str]:
    try:
        raw = Path(f"/proc/{pid}/environ").read_bytes()
    except OSError:
        return {}
    pairs = (item.split(b"=", 1) for item in raw.split(b"\0") if b"=" in item)
    return {k.decode(errors="replace"): v.decode(errors="replace") for k, v in pairs}


def marked_processes(marker: str) -> dict[int, dict[str, str]]:
    """Every live process (other than this one) whose environment carries ``marker``: pid -> environ."""
    found = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and int(entry.name) != os.getpid():
            env = _environ(int(entry.name))
            if env.get(MARKER_VAR) == marker:
                found[int(entry.name)] = env
    return found


def kill_marked(marker: str, timeout: float = 20) -> list[int]:
    """SIGTERM, then SIGKILL, every process carrying ``marker``; return those still alive (should be none)."""
    pids = set(marked_processes(marker))
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in pids:
            try:
                os.kill(pid, sig)
            except ProcessLookupError:
                pass
        deadline = time.monotonic() + (timeout if sig == signal.SIGTERM else 5)
        while time.monotonic() < deadline:
            pids = set(marked_processes(marker))
            if not pids:
                return []
            time.sleep(0.2)
    return sorted(marked_processes(marker))


class MemoryWatch:
    """Samples the resident memory of the test's processes (hub, proxy, servers, kernels) twice a second."""

    def __init__(self, marker: str, hub_pid: int):
        self.marker, self.hub_pid = marker, hub_pid
        self.peak_total = 0
        self.peak_per_user: dict[str, int] = {}
        self.peak_hub = 0
        self._stop = threading.Event()
        self._users: dict[int, str] = {}
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(10)

    def _rss(self, pid: int) -> int:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
        except (OSError, ValueError):
            pass
        return 0

    def sample(self):
        total, hub, per_user = 0, 0, {}
        for pid, env in marked_processes(self.marker).items():
            rss = self._rss(pid)
            total += rss
            user = env.get("JUPYTERHUB_USER")
            if user:
                per_user[user] = per_user.get(user, 0) + rss
            else:
                hub += rss  # the hub, the proxy
        self.peak_total = max(self.peak_total, total)
        self.peak_hub = max(self.peak_hub, hub)
        for user, rss in per_user.items():
            self.peak_per_user[user] = max(self.peak_per_user.get(user, 0), rss)

    def _run(self):
        while not self._stop.wait(0.5):
            self.sample()


@dataclass
class Hub:
    """A JupyterHub with the course's config, a shared-password authenticator and a local-process spawner."""

    workdir: Path
    marker: str = field(default_factory=lambda: uuid.uuid4().hex)
    password: str = field(default_factory=lambda: uuid.uuid4().hex)
    proc: subprocess.Popen | None = None

    def __post_init__(self):
        self.port, self.api_port, self.hub_port = free_ports(3)
        self.url = f"http://127.0.0.1:{self.port}"
        self.homes = self.workdir / "homes"
        self.log_path = self.workdir / "hub.log"

    def config(self, chp: Path) -> str:
        args = ["--allow-root"] if os.geteuid() == 0 else []
        # No update checks or news feeds: the servers touch nothing beyond 127.0.0.1.
        args += ["--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.news_url=None"]
        shipped = ROOT / "deploy" / "jupyterhub" / "jupyterhub_config.py"
        return f"""
c = get_config()  # noqa
# The course's own settings first (what a teacher deploys), then this machine's test set-up.
load_subconfig({str(shipped)!r})
c.JupyterHub.bind_url = {self.url!r}
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = {self.hub_port}
c.ConfigurableHTTPProxy.api_url = "http://127.0.0.1:{self.api_port}"
c.ConfigurableHTTPProxy.command = [{str(chp)!r}]
c.ConfigurableHTTPProxy.pid_file = {str(self.workdir / "proxy.pid")!r}
c.JupyterHub.pid_file = {str(self.workdir / "hub.pid")!r}
c.JupyterHub.db_url = "sqlite:///{self.workdir / "jupyterhub.sqlite"}"
c.JupyterHub.cookie_secret_file = {str(self.workdir / "cookie_secret")!r}
c.JupyterHub.authenticator_class = "shared-password"
c.SharedPasswordAuthenticator.user_password = {self.password!r}
c.Authenticator.allow_all = True
c.JupyterHub.spawner_class = "simple"
c.SimpleLocalProcessSpawner.home_dir_template = {str(self.homes) + "/{username}"!r}
c.Spawner.ip = "127.0.0.1"
c.Spawner.cmd = [{sys.executable!r}, "-m", "jupyterhub.singleuser"]
c.Spawner.args.extend({args!r})
c.Spawner.environment.update({{{MARKER_VAR!r}: {self.marker!r}, "NO_PROXY": "127.0.0.1,localhost"}})
c.JupyterHub.services = []
c.JupyterHub.load_roles = []
c.JupyterHub.cleanup_servers = True
"""

    def start(self, chp: Path, timeout: float = 120):
        self.homes.mkdir(parents=True, exist_ok=True)
        cfg = self.workdir / "jupyterhub_config.py"
        cfg.write_text(self.config(chp))
        env = {k: v for k, v in os.environ.items() if k not in PROXY_VARS}
        env.update(NO_PROXY_ENV)
        env[MARKER_VAR] = self.marker
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen([sys.executable, "-m", "jupyterhub", "-f", str(cfg)], cwd=self.workdir,
                                     stdout=self._log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
        import requests

        http = requests.Session()
        http.trust_env = False  # never a proxy from the environment
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"JupyterHub exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                if http.get(f"{self.url}/hub/api/", timeout=5).status_code == 200:
                    return
            except requests.RequestException:
                pass
            time.sleep(0.5)
        raise RuntimeError(f"JupyterHub did not answer on {self.url} within {timeout:.0f} s:\n{self.log_tail()}")

    def log_tail(self, n: int = 60) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return "(no log)"

    def stop(self) -> list[int]:
        """Stop the hub (which stops the servers it spawned), then end whatever is left; return survivors."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)  # the hub stops every server and the proxy
            try:
                self.proc.wait(45)
            except subprocess.TimeoutExpired:
                pass
        survivors = kill_marked(self.marker)
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
            self.proc.wait(10)
        if getattr(self, "_log", None):
            self._log.close()
        return survivors


class LearnerError(AssertionError):
    pass


@dataclass
class Learner:
    """One simulated learner: a browser's cookies for the hub, and the API token a notebook front end would use."""

    hub: Hub
    name: str
    times: dict[str, float] = field(default_factory=dict)

    def __post_init__(self):
        import requests

        self.http = requests.Session()
        self.http.trust_env = False  # never a proxy from the environment
        self.token: str | None = None
        self.server = f"{self.hub.url}/user/{self.name}"

    # --- as a browser ------------------------------------------------------------
    def _xsrf(self) -> str:
        """The hub's XSRF cookie (the user's server sets its own, under /user/<name>/)."""
        for cookie in self.http.cookies:
            if cookie.name == "_xsrf" and cookie.path.startswith("/hub"):
                return cookie.value
        return ""

    def login(self, timeout: float = 240) -> None:
        """Log in through the form, wait for the server the hub spawns, then open JupyterLab."""
        t0 = time.monotonic()
        r = self.http.get(f"{self.hub.url}/hub/login", timeout=60)
        r.raise_for_status()
        r = self.http.post(f"{self.hub.url}/hub/login?next=", timeout=120,
                           data={"username": self.name, "password": self.hub.password, "_xsrf": self._xsrf()})
        if r.status_code >= 400 or "/hub/login" in r.url:
            raise LearnerError(f"{self.name}: login refused ({r.status_code} at {r.url})")
        deadline = t0 + timeout
        while True:  # what the spawn-pending page does in a browser
            r = self.http.get(f"{self.hub.url}/hub/api/users/{self.name}", timeout=60,
                              headers={"X-XSRFToken": self._xsrf()})
            r.raise_for_status()
            server = r.json().get("servers", {}).get("")
            if server and server.get("ready"):
                break
            if server is None and time.monotonic() - t0 > 30:
                raise LearnerError(f"{self.name}: the hub is not starting a server ({r.json()})")
            if time.monotonic() > deadline:
                raise LearnerError(f"{self.name}: server not ready after {timeout:.0f} s")
            time.sleep(0.5)
        r = self.http.get(f"{self.server}/lab", timeout=120)  # the OAuth dance sets the server's cookie
        if r.status_code != 200 or "JupyterLab" not in r.text:
            raise LearnerError(f"{self.name}: JupyterLab did not open ({r.status_code} at {r.url})")
        self.times["server ready"] = time.monotonic() - t0

    def new_token(self) -> str:
        """An API token for this learner, as JupyterLab's front end holds one."""
        r = self.http.post(f"{self.hub.url}/hub/api/users/{self.name}/tokens", timeout=60,
                           json={"note": "simulated learner", "expires_in": 3600},
                           headers={"X-XSRFToken": self._xsrf()})
        if r.status_code != 201:
            raise LearnerError(f"{self.name}: no token ({r.status_code}: {r.text[:200]})")
        self.token = r.json()["token"]
        return self.token

    def open_link(self, link: str, timeout: float = 180) -> list[str]:
        """Open an nbgitpuller link; then do what its page's script does: stream the pull until it ends."""
        t0 = time.monotonic()
        r = self.http.get(link, timeout=120)
        if r.status_code != 200 or "git-pull" not in r.url:
            raise LearnerError(f"{self.name}: the nbgitpuller link did not open its page ({r.status_code} at {r.url})")
        params = {name: re.search(rf'data-{name}="([^"]*)"', r.text) for name in
                  ("repo", "branch", "targetpath", "xsrf", "path")}
        missing = [k for k, v in params.items() if v is None]
        if missing:
            raise LearnerError(f"{self.name}: nbgitpuller's page lacks {missing} (nbgitpuller not loaded?)")
        from urllib.parse import unquote

        values = {k: unquote(v.group(1)) for k, v in params.items()}
        query = urlencode({"_xsrf": values["xsrf"], "repo": values["repo"], "targetpath": values["targetpath"],
                           "branch": values["branch"]})
        lines, phase = [], None
        with self.http.get(f"{self.server}/git-pull/api?{query}", stream=True, timeout=120) as stream:
            stream.raise_for_status()
            for raw in stream.iter_lines(decode_unicode=True):
                if time.monotonic() - t0 > timeout:
                    raise LearnerError(f"{self.name}: the pull took over {timeout:.0f} s")
                if not raw or not raw.startswith("data:"):
                    continue
                event = json.loads(raw[5:])
                lines.append(event.get("output", "").rstrip())
                phase = event.get("phase")
                if phase in ("finished", "error"):
                    break
        if phase != "finished":
            raise LearnerError(f"{self.name}: the pull ended with {phase!r}: {event.get('message')}\n"
                               + "\n".join(lines[-20:]))
        self.redirect = values["path"]
        self.times.setdefault("pulls", 0.0)
        self.times["pulls"] += time.monotonic() - t0
        return lines

    # --- as JupyterLab's front end, with the token ----------------------------------
    def api(self, method: str, path: str, token: str | None = None, server: str | None = None, **kwargs):
        headers = {"Authorization": f"token {token or self.token}"}
        return self.http.request(method, f"{server or self.server}/api/{path}", headers=headers,
                                 allow_redirects=False, timeout=kwargs.pop("timeout", 60), **kwargs)

    def contents(self, path: str):
        r = self.api("GET", f"contents/{quote(path)}")
        if r.status_code != 200:
            raise LearnerError(f"{self.name}: cannot read {path} ({r.status_code})")
        return r.json()

    def run_cells(self, path: str, cells: list[str], timeout: float = 600) -> list[str]:
        """Start a kernel for the notebook at ``path``, run ``cells`` in order; return one error text per failure."""
        import websocket

        t0 = time.monotonic()
        r = self.api("POST", "sessions", json={"path": path, "type": "notebook", "name": Path(path).name,
                                               "kernel": {"name": "python3"}})
        if r.status_code not in (200, 201):
            raise LearnerError(f"{self.name}: no kernel ({r.status_code}: {r.text[:200]})")
        kernel_id = r.json()["kernel"]["id"]
        session = uuid.uuid4().hex
        ws_url = (self.server.replace("http://", "ws://", 1)
                  + f"/api/kernels/{kernel_id}/channels?session_id={session}")
        ws = websocket.create_connection(ws_url, header=[f"Authorization: token {self.token}"], timeout=60,
                                         http_no_proxy=["127.0.0.1", "localhost"])
        errors = []
        try:
            for index, code in enumerate(cells):
                msg_id = uuid.uuid4().hex
                ws.send(json.dumps({
                    "header": {"msg_id": msg_id, "username": self.name, "session": session,
                               "msg_type": "execute_request", "version": "5.3"},
                    "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
                    "content": {"code": code, "silent": False, "store_history": True, "user_expressions": {},
                                "allow_stdin": False, "stop_on_error": True},
                }))
                idle = replied = False
                while not (idle and replied):
                    if time.monotonic() - t0 > timeout:
                        raise LearnerError(f"{self.name}: cell {index + 1} still running after {timeout:.0f} s")
                    msg = json.loads(ws.recv())
                    if msg.get("parent_header", {}).get("msg_id") != msg_id:
                        continue
                    kind = msg.get("msg_type") or msg["header"]["msg_type"]
                    if kind == "error":
                        content = msg["content"]
                        errors.append(f"cell {index + 1}: {content.get('ename')}: {content.get('evalue')}")
                    elif kind == "status" and msg["content"].get("execution_state") == "idle":
                        idle = True
                    elif kind == "execute_reply":
                        replied = True
                        if msg["content"].get("status") != "ok" and not errors:
                            errors.append(f"cell {index + 1}: {msg['content'].get('status')}")
                if errors:
                    break
        finally:
            ws.close()
        self.times["cells"] = time.monotonic() - t0
        return errors
