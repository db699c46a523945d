"""JupyterHub for a class on one server: what the coursekit course needs from the hub.

Where this file goes (see deploy/jupyterhub/README.md for the whole set-up):

- The Littlest JupyterHub (TLJH, one server, up to about a hundred learners): copy it to
  ``/opt/tljh/config/jupyterhub_config.d/coursekit.py`` and run ``sudo tljh-config reload hub``.
  TLJH already provides HTTPS, the idle culler, nbgitpuller, a Unix account per learner and
  a systemd spawner that enforces the limits below; the authenticator is chosen with
  ``tljh-config`` (see the list below).
- Plain JupyterHub on one server: ``jupyterhub -f deploy/jupyterhub/jupyterhub_config.py``
  (pip install jupyterhub and, for the limits to be enforced, jupyterhub-systemdspawner;
  npm install configurable-http-proxy). Put HTTPS in front of it.

The single-user servers must run in the course environment: coursekit with CPU torch,
JupyterLab and nbgitpuller (deploy/jupyterhub/README.md, "The course environment").
"""
import sys

c = get_config()  # noqa: F821 (JupyterHub's config loader defines it)

IN_TLJH = "tljh" in sys.modules  # TLJH loads this file from its own config

# --- what every learner gets -------------------------------------------------
# JupyterLab, in the folder an nbgitpuller link opens.
c.Spawner.default_url = "/lab"
# One thread per kernel. The course's networks are small: extra BLAS/OpenMP threads buy
# nothing for one learner and, multiplied by a class, make every kernel slower.
# coursekit.setup_notebook also fixes PyTorch to one thread.
c.Spawner.environment.update({
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
    "NBGITPULLER_APP": "lab",
})
# Limits per learner, from the measured cost (deploy/jupyterhub/README.md): a kernel running the
# heaviest notebook peaks at about 0.65 GiB, its Jupyter server at 0.07 GiB; 1.5 GiB leaves room
# for a second open notebook. A kernel uses one core at most. Enforced by TLJH's systemd spawner
# (and by Kubernetes); JupyterHub's LocalProcessSpawner only passes them on.
c.Spawner.mem_limit = "1.5G"
c.Spawner.cpu_limit = 1.0
# JupyterLab keeps the kernel of every notebook a learner has opened: shut down those idle for
# 20 minutes whose tab is closed (an open notebook keeps its kernel), so a lesson through several
# notebooks holds one kernel per learner, not one per notebook.
c.Spawner.args.extend(["--MappingKernelManager.cull_idle_timeout=1200",
                       "--MappingKernelManager.cull_interval=120"])
# A class logs in within the same minute: give slow starts time instead of failing them.
c.Spawner.start_timeout = 180
c.Spawner.http_timeout = 120

# --- who may log in: left to the teacher ---------------------------------------
# TLJH: choose with tljh-config, e.g.
#   sudo tljh-config set auth.type firstuseauthenticator.FirstUseAuthenticator   (TLJH's default)
#   sudo tljh-config set auth.type nativeauthenticator.NativeAuthenticator
#   sudo tljh-config set auth.type oauthenticator.github.GitHubOAuthenticator    (+ client id/secret)
#   sudo tljh-config reload
# Plain JupyterHub: uncomment one (each is its own package, except "pam" and "shared-password"):
# c.JupyterHub.authenticator_class = "pam"              # the server's Unix accounts (JupyterHub's default)
# c.JupyterHub.authenticator_class = "firstuseauthenticator.FirstUseAuthenticator"  # password set at first login
# c.JupyterHub.authenticator_class = "nativeauthenticator.NativeAuthenticator"      # sign-up, approved by you
# c.JupyterHub.authenticator_class = "shared-password"  # one workshop password (JupyterHub >= 5.3)
# c.JupyterHub.authenticator_class = "github"           # oauthenticator: learners' GitHub accounts
# c.JupyterHub.authenticator_class = "generic-oauth"    # oauthenticator: your institution's SSO (OIDC)
# c.JupyterHub.authenticator_class = "ldapauthenticator.LDAPAuthenticator"  # your institution's LDAP
# and name who may log in and who administers the hub:
# c.Authenticator.allowed_users = {"learner1", "learner2"}
# c.Authenticator.admin_users = {"teacher"}

if not IN_TLJH:
    # --- plain JupyterHub only: TLJH sets these itself ------------------------------
    c.JupyterHub.bind_url = "http://:8000"  # behind your HTTPS proxy; or set ssl_cert/ssl_key
    # c.JupyterHub.spawner_class = "systemdspawner.SystemdSpawner"  # enforces mem_limit/cpu_limit
    # Stop servers nobody has used for an hour (pip install jupyterhub-idle-culler).
    try:
        import jupyterhub_idle_culler  # noqa: F401
    except ImportError:
        pass
    else:
        c.JupyterHub.load_roles = [{"name": "idle-culler", "services": ["idle-culler"],
                                    "scopes": ["list:users", "read:users:activity", "read:servers",
                                               "delete:servers"]}]
        c.JupyterHub.services = [{"name": "idle-culler",
                                  "command": [sys.executable, "-m", "jupyterhub_idle_culler", "--timeout=3600"]}]
