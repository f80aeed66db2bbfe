"""The course's JupyterHub: `jupyterhub -f hub/jupyterhub_config.py`, run as root on the hub's
server (PAM accounts, each student's server a process of their own account).

What a class needs, in one place (docs/instructor.md quotes this file):
- every student's server runs in the students' Python (COURSE_STUDENTS_PYTHON), outside the
  course folder (closed to them), set up by `python -m course.hub setup`: their nbgrader
  configuration (the course's id and exchange, the grader's per-cell limit) and Validate beside
  the server's event loop;
- every notebook finds the data in SIGNS_DATA_DIR, one read-only folder (the same setup);
- formgrader is a hub service named by the course's id, running as the grader account in the
  course folder, opened to the teaching team (the group formgrade-COURSE_ID, nbgrader's "one
  class, multiple graders" recipe), and listed in their Courses tab (the server role below).

Each setting can be given in the environment of the hub's process; the defaults are the
documented set-up.
"""
import os
from pathlib import Path

from traitlets.config.loader import PyFileConfigLoader

c = get_config()  # noqa: F821 (provided by JupyterHub)

COURSE = Path(__file__).resolve().parents[1]
COURSE_ID = PyFileConfigLoader("nbgrader_config.py", path=str(COURSE)).load_config(
    ).CourseDirectory.course_id
STUDENTS_PYTHON = Path(os.environ.get("COURSE_STUDENTS_PYTHON", "/opt/course-students"))
DATA = os.environ.get("SIGNS_DATA_DIR", "/srv/data/resnets")
GRADER = os.environ.get("COURSE_GRADER_ACCOUNT", f"grader-{COURSE_ID}")  # the course's group
# the Python formgrader runs in: the course's own environment, or one outside the course folder
GRADER_PYTHON = Path(os.environ.get("COURSE_GRADER_PYTHON", COURSE / ".venv"))
TEAM = [name for name in os.environ.get("COURSE_GRADERS", "").split(",") if name]
STUDENT_NAMES = [name for name in os.environ.get("COURSE_STUDENTS", "").split(",") if name]
FORMGRADER_PORT = int(os.environ.get("COURSE_FORMGRADER_PORT", "9999"))

c.JupyterHub.ip = os.environ.get("COURSE_HUB_IP", "")  # every address; 127.0.0.1 for one machine
c.JupyterHub.port = int(os.environ.get("COURSE_HUB_PORT", "8000"))
# the hub's own API and the proxy's, reached on this machine only (JupyterHub's defaults)
c.JupyterHub.hub_port = int(os.environ.get("COURSE_HUB_API_PORT", "8081"))
c.ConfigurableHTTPProxy.api_url = (
    f"http://127.0.0.1:{int(os.environ.get('COURSE_PROXY_API_PORT', '8001'))}")

# who may log in: the class and the teaching team (PAM: their accounts on this machine)
c.Authenticator.allowed_users = set(STUDENT_NAMES + TEAM)
c.Authenticator.admin_users = set()

# a student's server: JupyterLab from the students' Python, in their home, with the data
c.Spawner.cmd = [str(STUDENTS_PYTHON / "bin" / "python3"), "-m", "jupyterhub.singleuser"]
c.Spawner.default_url = "/lab"
c.Spawner.environment = {"SIGNS_DATA_DIR": DATA, "TF_CPP_MIN_LOG_LEVEL": "3"}

# formgrader for the teaching team, as the grader account, in the course folder
c.JupyterHub.load_groups = {f"formgrade-{COURSE_ID}": TEAM}
c.JupyterHub.load_roles = [
    {"name": f"formgrade-{COURSE_ID}", "groups": [f"formgrade-{COURSE_ID}"],
     "scopes": [f"access:services!service={COURSE_ID}", "list:services",
                f"read:services!service={COURSE_ID}"]},
    # nbgrader's Courses tab asks the hub, with the token of the user's own server, which
    # formgrader services the user may open: that token needs its owner's permissions (without
    # it: "There are no available formgrader services")
    {"name": "server", "scopes": ["inherit"]},
]
c.JupyterHub.services = [{
    "name": COURSE_ID,
    "url": f"http://127.0.0.1:{FORMGRADER_PORT}",
    "command": [str(GRADER_PYTHON / "bin" / "python"), "-m", "jupyterhub.singleuser",
                f"--ServerApp.root_dir={COURSE}",
                # formgrader's JupyterLab panel is an iframe of the service's own pages, which
                # JupyterHub (>= 4.1) forbids by default ("frame-ancestors 'none'": the panel
                # stays blank). Allowed here from the hub's own address, for this service only:
                # the students' servers keep 'none', and no page a student controls reaches a
                # TA's browser (a classmate's or a TA's request to a student's server gets 403;
                # nbgrader's documentation, "JupyterHub and iframes")
                "--ServerApp.tornado_settings="
                '{"headers": {"Content-Security-Policy": "frame-ancestors \'self\'"}}'],
    "user": GRADER,
    "cwd": str(COURSE),
    # JUPYTER_PATH: the course's formgrade template, found before nbconvert's (MathJax from no
    # CDN: hub/formgrader/nbconvert/templates/formgrade/mathjax.html.j2)
    "environment": {"JUPYTERHUB_DEFAULT_URL": "/lab", "SIGNS_DATA_DIR": DATA,
                    "JUPYTER_PATH": str(COURSE / "hub" / "formgrader")},
    # the course's own service, opened to the team by the role above: no "Authorize access"
    # page between a TA's Courses tab and formgrader
    "oauth_no_confirm": True,
}]
