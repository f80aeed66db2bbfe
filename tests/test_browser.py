"""The class as its people meet it, in a real browser on a real JupyterHub (issue 35, item 4).

The hub is the project's own (hub/jupyterhub_config.py, run as root with configurable-http-proxy
from PATH), on free ports of 127.0.0.1, with PAM accounts made for this test (two students, a TA
and the grader account that formgrader runs as, each with a random suffix; homes closed) and
removed however it ends. Everything else is as docs/instructor.md sets it up, in a temporary
folder of root's that every account may enter (755): a copy of the course with its hub/
(demo.copy_course), its exchange another folder, named in the copy's nbgrader_config.py and in
the students' (the copy's hub/students/) as an instructor with another exchange does; the
students' and formgrader's Python, hard-linked copies of this environment outside the course
folder; and `python -m course.hub setup --students-python --grader --data` run in the copy.
Nothing of this machine's configuration (/etc/jupyter, /usr/local/share, /etc/login.defs) is
touched.

The stages, one test each, in the order a term goes: a student logs in, fetches, types one
answer and runs its test, validates (the server answering meanwhile) and submits; root collects,
grades (`python -m course.grade`) and releases feedback, and the student fetches the page (the
score, the diagrams inside it); a classmate gets the hub's 403 on that student's server and
"Permission denied" on their home; the TA opens formgrader from the Courses tab, presses Collect,
Autograde (refused, the graded copy kept), grades by hand, Generates and Releases Feedback; the
student fetches the hand grade. Chromium and chromedriver are Debian's, given to Selenium by path
(its manager never downloads); every stage fails on a console error, a failed request or a
request to another host than the hub, and leaves its screenshots in reports/browser/ with
timings.json (the Submit click to the feedback page, the whole module)."""
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest
from conftest import ROOT, Workers, broker, free_ports

from course import demo, sandbox
from course.core import assignments, nbgrader_environment, solution_sources

CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
PROXY = "configurable-http-proxy"
COURSE_ID = "resnets-course"  # nbgrader_config.py's CourseDirectory.course_id
ASSIGNMENT = assignments(ROOT)["resnets"]
TYPED = "identity_block"  # the answer the student types; the others are in the file already
HAND_SCORE = 2  # the TA's hand grade of its test cell (of 3), and a comment under it
HAND_COMMENT = "Good: each component as the table gives it. One point off, by hand."
DEFAULT_EXCHANGE = "/usr/local/share/nbgrader/exchange"  # what both configurations name
SHOTS = ROOT / "reports" / "browser"
SPAWN_SECONDS = 180  # a student's JupyterLab starting on a busy 2-core machine
STOP_SECONDS = 90  # the hub stops its servers and the formgrader service (about 30 s each)

# identity_block's three missing parts, one statement a line as a student types them (the
# editor indents each new line as the one before)
TYPED_PARTS = [
    ['X = Conv2D(F2, kernel_size=f, strides=1, padding="same", '
     'kernel_initializer=initializer(seed=0), name=layer_name(name, "2_conv"))(X)',
     'X = BatchNormalization(axis=3, name=layer_name(name, "2_bn"))(X, training=training)',
     'X = Activation("relu", name=layer_name(name, "2_relu"))(X)'],
    ['X = Conv2D(F3, kernel_size=1, strides=1, padding="valid", '
     'kernel_initializer=initializer(seed=0), name=layer_name(name, "3_conv"))(X)',
     'X = BatchNormalization(axis=3, name=layer_name(name, "3_bn"))(X, training=training)'],
    ['X = Add(name=layer_name(name, "add"))([X, X_shortcut])',
     'X = Activation("relu", name=layer_name(name, "out"))(X)'],
]


def _run(command, **options):
    run = subprocess.run(command, capture_output=True, text=True, **options)
    assert run.returncode == 0, f"{' '.join(map(str, command))}: {run.stdout[-2000:]}" \
        f"{run.stderr[-3000:]}"
    return run


def _missing():
    """What this test needs and this machine lacks, with the fix."""
    missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
    if not shutil.which(PROXY):
        missing.append(PROXY)
    if missing:
        return (f"{', '.join(missing)} not found. Fix: `make install` (as root: Debian's "
                "chromium and chromium-driver, configurable-http-proxy from npm).")
    if os.geteuid() != 0 or sandbox.unavailable():
        return ("the browser test needs root (PAM accounts, the hub, grading's sandbox): "
                f"{sandbox.unavailable() or 'not root'}. Fix: run the tests as root.")
    return None


class Hub:
    """The running hub and what the stages share: its accounts, folders, logs and timings."""

    def __init__(self, base):
        self.base = base
        suffix = secrets.token_hex(3)
        self.students = [f"cbs1-{suffix}", f"cbs2-{suffix}"]
        self.ta, self.grader = f"cbta-{suffix}", f"cbgr-{suffix}"
        self.accounts = [*self.students, self.ta, self.grader]
        self.passwords = {name: secrets.token_urlsafe(16) for name in self.accounts}
        self.course = base / "course"
        self.exchange = base / "exchange"
        self.students_python = base / "students-python"
        # formgrader's Python, outside the course folder: the setup makes everything in that
        # folder group-writable, and these files are hard links to this environment's
        self.grader_python = base / "grader-python"
        self.data = base / "data"
        self.process = None
        self.url = None
        self.problems = {}  # stage: [failed request or console error]
        self.timings = {}
        self.browsers = []

    def log(self):
        return (self.base / "hub.log").read_text(errors="replace")


def _make_accounts(hub):
    for name in hub.accounts:
        # homes closed to the other accounts, as `course.hub setup --close-homes` makes them;
        # a group of each account's own (the grader's shares the course folder)
        _run(["useradd", "-m", "-U", "-K", "HOME_MODE=0700", "-s", "/bin/bash", name])
    _run(["chpasswd"], input="".join(f"{name}:{password}\n"
                                     for name, password in hub.passwords.items()))


def _remove_accounts(hub):
    for name in hub.accounts:
        # processes the hub started as this account and left behind (by their ids)
        left = subprocess.run(["pgrep", "-u", name], capture_output=True, text=True).stdout
        for pid in left.split():
            try:
                os.kill(int(pid), signal.SIGKILL)
            except ProcessLookupError:
                pass
        subprocess.run(["userdel", "-r", name], capture_output=True)


def _prepare_course(hub):
    """The course copy with its hub/, the exchange named on both sides, the grader's and the
    students' Python (hard links: no second 2.7 GB), and `course.hub setup` run in it."""
    course = demo.copy_course(hub.course, names=[ASSIGNMENT.name])
    shutil.copytree(ROOT / "hub", course / "hub", ignore=shutil.ignore_patterns("__pycache__"))
    for config in (course / "nbgrader_config.py", course / "hub" / "students" /
                   "nbgrader_config.py"):
        text = config.read_text()
        assert text.count(f'"{DEFAULT_EXCHANGE}"') == 1, config
        config.write_text(text.replace(f'"{DEFAULT_EXCHANGE}"', f'"{hub.exchange}"'))
    for target in (hub.grader_python, hub.students_python):
        _run(["cp", "-al", sys.prefix, str(target)])
    setup = _run([sys.executable, "-m", "course.hub", "setup", "--students-python",
                  str(hub.students_python), "--grader", hub.grader, "--data", str(hub.data)],
                 cwd=course, env=nbgrader_environment())
    assert [line.split(":")[0] for line in setup.stdout.splitlines()] == [
        "exchange", "students' Python", "team", "data"], setup.stdout
    assert f"exchange: {hub.exchange} " in setup.stdout
    _run([sys.executable, "-m", "nbgrader", "release_assignment", ASSIGNMENT.name], cwd=course,
         env=nbgrader_environment())


def _start(hub):
    port, api_port, proxy_port, formgrader_port = free_ports(4)
    hub.url = f"http://127.0.0.1:{port}"
    state = hub.base / "hub-state"  # the hub's database, cookie secret: root's alone
    state.mkdir(mode=0o700)
    environment = {**nbgrader_environment(),
                   "COURSE_STUDENTS_PYTHON": str(hub.students_python),
                   "SIGNS_DATA_DIR": str(hub.data),
                   "COURSE_GRADER_ACCOUNT": hub.grader, "COURSE_GRADERS": hub.ta,
                   "COURSE_GRADER_PYTHON": str(hub.grader_python),
                   "COURSE_STUDENTS": ",".join(hub.students),
                   "COURSE_HUB_IP": "127.0.0.1", "COURSE_HUB_PORT": str(port),
                   "COURSE_HUB_API_PORT": str(api_port),
                   "COURSE_PROXY_API_PORT": str(proxy_port),
                   "COURSE_FORMGRADER_PORT": str(formgrader_port)}
    environment.pop("COURSE_DB_URL", None)
    hub.process = subprocess.Popen(
        [sys.executable, "-m", "jupyterhub", "-f", str(hub.course / "hub" /
                                                        "jupyterhub_config.py")],
        cwd=state, env=environment, stdout=(hub.base / "hub.log").open("w"),
        stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while True:
        try:
            with urllib.request.urlopen(f"{hub.url}/hub/api", timeout=5) as answer:
                json.loads(answer.read())
            return
        except OSError:
            if hub.process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the hub did not start: {hub.log()[-4000:]}")
            time.sleep(1)


def _stop(hub):
    if hub.process is None or hub.process.poll() is not None:
        return
    os.killpg(hub.process.pid, signal.SIGTERM)  # the hub stops the servers and the service
    try:
        hub.process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        os.killpg(hub.process.pid, signal.SIGKILL)
        hub.process.wait()


@pytest.fixture(scope="module")
def hub():
    missing = _missing()
    if missing:
        pytest.fail(missing)
    SHOTS.mkdir(parents=True, exist_ok=True)
    for old in SHOTS.glob("*.png"):
        old.unlink()
    started = time.monotonic()
    base = Path(tempfile.mkdtemp(prefix="course-browser-"))
    os.chmod(base, 0o755)  # every account reaches the students' Python and the data in it
    state = Hub(base)
    try:
        _make_accounts(state)
        _prepare_course(state)
        _start(state)
        state.timings["set-up (s)"] = round(time.monotonic() - started, 1)
        yield state
    finally:
        for browser in state.browsers:
            browser.quit()
        _stop(state)
        _remove_accounts(state)
        shutil.copy(base / "hub.log", SHOTS / "hub.log") if (base / "hub.log").exists() else None
        shutil.rmtree(base, ignore_errors=True)
        state.timings["whole module (s)"] = round(time.monotonic() - started, 1)
        (SHOTS / "timings.json").write_text(json.dumps(state.timings, indent=1) + "\n")
        print(f"\nbrowser test timings: {state.timings}")


# --- the browser --------------------------------------------------------------------------------
def _browser(hub):
    """Headless Chromium: Debian's, by path; any other host than 127.0.0.1 fails to resolve, so
    a request that would leave the machine is a failed request."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    profile = tempfile.mkdtemp(prefix="chromium-", dir=hub.base)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--window-size=1400,1000", f"--user-data-dir={profile}",
                     "--disable-background-networking", "--disable-component-update",
                     "--no-first-run", "--disable-sync", "--disable-default-apps",
                     "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    browser.set_script_timeout(30)
    hub.browsers.append(browser)
    browser.get("about:blank")
    browser.get_log("browser"), browser.get_log("performance")  # Chromium's own start page
    return browser


def _problems(hub, browser, stage, expected_statuses=()):
    """The console errors and failed requests the browser logged since it was last asked,
    kept under `stage`; a response whose (status, URL part) is in `expected_statuses` is the
    stage's point (the 403 of a classmate's server)."""
    found = hub.problems.setdefault(stage, [])
    for entry in browser.get_log("browser"):
        if entry["level"] == "SEVERE" and not any(
                part in entry["message"] and f"status of {code}" in entry["message"]
                for code, part in expected_statuses):
            found.append(f"console: {entry['message'][:500]}")
    urls = {}
    for entry in browser.get_log("performance"):
        message = json.loads(entry["message"])["message"]
        method, params = message["method"], message.get("params", {})
        if method == "Network.requestWillBeSent":
            url = params["request"]["url"]
            urls[params["requestId"]] = url
            if not url.startswith((hub.url, hub.url.replace("http", "ws"), "data:", "blob:")):
                found.append(f"request off the hub: {url[:300]}")
        elif method == "Network.loadingFailed" and not params.get("canceled"):
            found.append(f"failed: {urls.get(params['requestId'], '?')[:300]} "
                         f"({params.get('errorText')})")
        elif method == "Network.responseReceived":
            status, url = params["response"]["status"], params["response"]["url"]
            if status >= 400 and not any(status == code and part in url
                                         for code, part in expected_statuses):
                found.append(f"HTTP {status}: {url[:300]}")
    return found


def _shot(hub, browser, name):
    number = len(list(SHOTS.glob("*.png"))) + 1
    path = SHOTS / f"{number:02d}-{name}.png"
    browser.save_screenshot(str(path))
    return path


def _wait(browser, condition, seconds, what):
    from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
    from selenium.webdriver.support.ui import WebDriverWait

    try:  # an element JupyterLab drew again while it was read: read it again
        return WebDriverWait(browser, seconds, poll_frequency=0.5, ignored_exceptions=[
            StaleElementReferenceException]).until(condition)
    except TimeoutException:
        browser.save_screenshot(str(SHOTS / "failed.png"))
        pytest.fail(f"{what}: not seen within {seconds} s (page {browser.current_url}; "
                    f"{SHOTS / 'failed.png'})")


def _by_text(browser, selector, text):
    from selenium.webdriver.common.by import By

    return next((element for element in browser.find_elements(By.CSS_SELECTOR, selector)
                 if element.is_displayed() and element.text.strip() == text), None)


def _login(hub, browser, user):
    """Log in, and wait for JupyterLab's Nbgrader menu (a restored workspace may show no
    launcher)."""
    from selenium.webdriver.common.by import By

    browser.get(f"{hub.url}/hub/login")
    _wait(browser, lambda b: b.find_elements(By.ID, "username_input"), 30, "the login page")
    browser.find_element(By.ID, "username_input").send_keys(user)
    browser.find_element(By.ID, "password_input").send_keys(hub.passwords[user])
    browser.find_element(By.ID, "login_submit").click()
    _wait(browser, lambda b: _by_text(b, ".lm-MenuBar-itemLabel", "Nbgrader"), SPAWN_SECONDS,
          f"{user}'s JupyterLab with its Nbgrader menu")


def _menu(browser, menu, item):
    from selenium.webdriver.common.action_chains import ActionChains

    _by_text(browser, ".lm-MenuBar-itemLabel", menu).click()
    entry = _wait(browser, lambda b: _by_text(b, ".lm-Menu-itemLabel", item), 10,
                  f"the menu entry {menu} > {item}")
    ActionChains(browser).move_to_element(entry).click().perform()


def _button(browser, list_id, label, seconds=60):
    from selenium.webdriver.common.by import By

    xpath = f"//div[@id='{list_id}']//button[normalize-space()='{label}']"
    return _wait(browser, lambda b: next((e for e in b.find_elements(By.XPATH, xpath)
                                          if e.is_enabled()), None),
                 seconds, f"the {label} button in #{list_id}")


def _assignments(browser):
    _menu(browser, "Nbgrader", "Assignment List")
    from selenium.webdriver.common.by import By

    _wait(browser, lambda b: b.find_elements(By.ID, "released_assignments_list"), 30,
          "the Assignments page")


def _fetch_status(browser, path):
    """(HTTP status, milliseconds) of a GET of `path` from the page, through the hub, as
    JupyterLab asks (its cookie, and the _xsrf cookie's value as a header)."""
    return browser.execute_async_script(
        "const done = arguments[arguments.length - 1], started = performance.now();"
        "const xsrf = (document.cookie.match(/(?:^|; )_xsrf=([^;]*)/) || [])[1] || '';"
        "fetch(arguments[0], {credentials: 'same-origin',"
        " headers: {'X-XSRFToken': decodeURIComponent(xsrf)}})"
        ".then(r => done([r.status, performance.now() - started]))"
        ".catch(e => done([0, String(e)]));", path)


def _cell(browser, starts_with):
    """The notebook cell whose source starts with `starts_with`, scrolled into view."""
    from selenium.webdriver.common.by import By

    def find(b):
        for cell in b.find_elements(By.CSS_SELECTOR, ".jp-Notebook .jp-Cell"):
            content = cell.find_elements(By.CSS_SELECTOR, ".cm-content")
            if content and content[0].get_attribute("textContent").startswith(starts_with):
                return cell
        return None

    cell = _wait(browser, find, 60, f"the cell starting {starts_with!r}")
    browser.execute_script("arguments[0].scrollIntoView({block: 'start'});", cell)
    return cell


def _type_answer(browser, starts_with):
    """Each `raise NotImplementedError()` of the cell replaced by its part, typed."""
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    for lines in TYPED_PARTS:
        line = _wait(browser, lambda b: next(
            (e for e in _cell(b, starts_with).find_elements(By.CSS_SELECTOR, ".cm-line")
             if e.text.strip() == "raise NotImplementedError()"), None), 30,
            "a line `raise NotImplementedError()` to replace")
        browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", line)
        actions = ActionChains(browser).click(line).send_keys(Keys.END)
        actions.key_down(Keys.SHIFT).send_keys(Keys.HOME).key_up(Keys.SHIFT)
        for number, text in enumerate(lines):
            if number:
                actions.send_keys(Keys.ENTER)
            actions.send_keys(text)
        actions.perform()


# --- the stages ---------------------------------------------------------------------------------
def test_a_student_fetches_answers_validates_and_submits(hub):
    from selenium.webdriver.common.action_chains import ActionChains
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    student, stage = hub.students[0], "student"
    browser = hub.student_browser = _browser(hub)
    _login(hub, browser, student)
    _shot(hub, browser, "student-lab")
    _assignments(browser)
    _button(browser, "released_assignments_list", "Fetch").click()
    _button(browser, "fetched_assignments_list", "Submit")
    _shot(hub, browser, "student-fetched")
    notebook = Path(f"/home/{student}") / ASSIGNMENT.name / ASSIGNMENT.notebook
    assert notebook.exists(), f"Fetch put nothing in {notebook}"
    # the other answers as a student who worked on them earlier saved them (the file is
    # theirs); identity_block is typed below
    answers = solution_sources(ASSIGNMENT.source())
    fetched = nbformat.read(notebook, as_version=4)
    for cell in fetched.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers and grade_id != TYPED:
            cell.source = answers[grade_id]
    nbformat.write(fetched, notebook)

    browser.get(f"{hub.url}/user/{student}/lab/tree/{ASSIGNMENT.name}/{ASSIGNMENT.notebook}")
    _type_answer(browser, f"def {TYPED}(")
    _shot(hub, browser, "student-typed")
    # run from the imports cell to identity_block's test cell, as a student does
    imports = _cell(browser, "import os")
    ActionChains(browser).click(imports.find_element(By.CSS_SELECTOR, ".cm-line")).send_keys(
        Keys.ESCAPE).perform()
    for _ in range(5):  # imports, two markdown cells, the answer, its test
        ActionChains(browser).key_down(Keys.SHIFT).send_keys(Keys.ENTER).key_up(
            Keys.SHIFT).perform()
        time.sleep(0.3)
    test_cell = _cell(browser, f"# Tests for {TYPED}")
    _wait(browser, lambda b: "All tests passed!" in test_cell.text or "Error" in test_cell.text,
          240, f"the output of {TYPED}'s test cell")
    _shot(hub, browser, "student-test-cell")
    assert "All tests passed!" in test_cell.text, test_cell.text[-2000:]

    validate = browser.find_element(By.CSS_SELECTOR, ".validate-button")
    started = time.monotonic()
    validate.click()
    waits = []
    while not browser.find_elements(By.CSS_SELECTOR, ".validation-success, .validation-failed,"
                                                     " .nbgrader-ErrorDialog"):
        assert time.monotonic() - started < 300, "Validate gave no answer within 300 s"
        status, milliseconds = _fetch_status(browser, f"/user/{student}/api/status")
        assert status == 200, (status, milliseconds)
        waits.append(milliseconds)
        time.sleep(0.5)
    hub.timings["validate (s)"] = round(time.monotonic() - started, 1)
    hub.timings["slowest /api/status during validate (ms)"] = round(max(waits or [0]), 1)
    _shot(hub, browser, "student-validated")
    assert browser.find_elements(By.CSS_SELECTOR, ".validation-success"), (
        browser.find_element(By.CSS_SELECTOR, ".jp-Dialog").text[-3000:])
    # the server answered meanwhile (nbgrader's own Validate: no answer until it ends, 12-19 s
    # here); 5 s leaves room for a machine busy with other tests
    assert len(waits) >= 3 and max(waits) < 5000, waits
    ActionChains(browser).send_keys(Keys.ESCAPE).perform()

    _assignments(browser)
    submit = _button(browser, "fetched_assignments_list", "Submit")
    hub.submitted_at = time.monotonic()
    submit.click()
    _button(browser, "submitted_assignments_list", "Fetch Feedback", seconds=60)
    _shot(hub, browser, "student-submitted")
    assert not _problems(hub, browser, stage), "\n".join(hub.problems[stage])


def test_the_submission_is_graded_and_the_student_reads_the_feedback(hub):
    """Graded on submission where the tests have a broker (`make test`: a watcher's look and a
    Celery worker, docs/grading.md), else as the final grading does (collect, course.grade,
    release); either way the student fetches the page from the Assignments tab."""
    from selenium.webdriver.common.by import By

    assert hasattr(hub, "submitted_at"), "nothing was submitted (the stage before failed)"
    student, stage, browser = hub.students[0], "feedback", hub.student_browser
    environment = {key: value for key, value in nbgrader_environment().items()
                   if key != "COURSE_DB_URL"}
    if os.environ.get("COURSE_TEST_BROKER_URL"):
        hub.timings["graded by"] = "course.term watch --once, one worker"
        environment["COURSE_QUEUE_NAME"] = f"test-browser-{os.getpid()}"  # a queue of its own
        started = time.monotonic()  # on a hub the workers run already: not the student's wait
        workers = Workers(1, environment, "browser-worker", [ASSIGNMENT.name])
        hub.timings["worker start, within the wait below (s)"] = round(
            time.monotonic() - started, 1)
        # the worker's copy as the coordinator's is (its exchange; a task compares the two)
        shutil.copy(hub.course / "nbgrader_config.py", workers.copies[0])
        try:
            look = _run([sys.executable, "-m", "course.term", "watch", ASSIGNMENT.name,
                         "--broker", broker(), "--per-day", "3", "--release-feedback",
                         "--once"], cwd=hub.course, env=environment)
        finally:
            workers.stop()
        attempts = "Graded attempts left today (UTC): 2 of 3."
    else:
        hub.timings["graded by"] = "nbgrader collect, course.grade, release_feedback"
        for command in ([sys.executable, "-m", "nbgrader", "collect", ASSIGNMENT.name],
                        [sys.executable, "-m", "course.grade", "--assignment", ASSIGNMENT.name],
                        [sys.executable, "-m", "nbgrader", "release_feedback", ASSIGNMENT.name]):
            _run(command, cwd=hub.course, env=environment)
        look, attempts = None, None
    _assignments(browser)
    _button(browser, "submitted_assignments_list", "Fetch Feedback").click()
    view = _wait(browser, lambda b: _by_text(b, "#submitted_assignments_list a",
                                             "(view feedback)"), 60, "the feedback link")
    view.click()
    _wait(browser, lambda b: "feedback" in b.find_element(
        By.CSS_SELECTOR, ".jp-BreadCrumbs").text, 30, "the feedback folder in the file browser")
    _shot(hub, browser, "student-feedback-fetched")
    total = float(sum(ASSIGNMENT.points.values()))
    lab = _open_feedback(hub, browser, student, f"Score: {total:.1f} / {total:.1f}")
    hub.timings["submit click to feedback page (s)"] = round(
        time.monotonic() - hub.submitted_at, 1)
    if attempts:
        assert attempts in browser.find_element(By.TAG_NAME, "body").text, look.stdout
    _shot(hub, browser, "student-feedback-page")
    images = browser.execute_script(
        "return [...document.images].map(i => [i.src.slice(0, 30), i.naturalWidth, i.alt]);")
    assert len(images) >= 3, images  # the notebook's three diagrams
    assert all(source.startswith("data:image/") and width > 0
               for source, width, _ in images), images
    problems = _problems(hub, browser, stage)
    browser.close()
    browser.switch_to.window(lab)
    assert not problems, "\n".join(problems)


def test_a_classmate_opens_neither_the_server_nor_the_home(hub):
    from selenium.webdriver.common.by import By

    first, second = hub.students
    stage = "classmate"
    browser = _browser(hub)
    _login(hub, browser, second)
    browser.get(f"{hub.url}/user/{first}/lab")
    time.sleep(3)
    body = browser.find_element(By.TAG_NAME, "body").text
    _shot(hub, browser, "classmate-refused")
    refused = "403" in body or f"/user/{first}/" not in browser.current_url
    assert refused, (browser.current_url, body[:2000])
    # the hub's refusal: the first student's server asks the hub who this is, and the hub
    # answers 403 to its authorization request
    problems = _problems(hub, browser, stage,
                         expected_statuses=[(403, f"client_id=jupyterhub-user-{first}&")])
    read = subprocess.run(["runuser", "-u", second, "--", "cat", str(
        Path(f"/home/{first}") / ASSIGNMENT.name / ASSIGNMENT.notebook)],
        capture_output=True, text=True)
    assert read.returncode != 0 and "Permission denied" in read.stderr, read
    assert not problems, "\n".join(problems)


def _open_feedback(hub, browser, student, score):
    """The student's fetched feedback page in a browser tab of its own (JupyterLab's "Open in
    New Browser Tab"), until it shows `score`; the JupyterLab tab stays as it was."""
    from selenium.webdriver.common.by import By

    found = list((Path(f"/home/{student}") / ASSIGNMENT.name / "feedback").rglob("*.html"))
    assert len(found) == 1, found
    lab = browser.current_window_handle
    browser.switch_to.new_window("tab")
    browser.get(f"{hub.url}/user/{student}/files/{found[0].relative_to(f'/home/{student}')}")
    _wait(browser, lambda b: score in b.find_element(By.TAG_NAME, "body").text, 30,
          f"the feedback page's {score!r}")
    return lab


def _formgrader_button(hub, browser, page, row, column, name):
    """Press formgrader's button in `column` of the row naming `row` on `page` (one of its own
    pages, as its panel shows them); (the answer's modal id, its text), the modal closed."""
    from selenium.webdriver.common.by import By

    browser.get(f"{hub.url}/services/{COURSE_ID}/formgrader/{page}")
    xpath = f"//tr[.//td[contains(., '{row}')]]//td[contains(@class, '{column}')]//a"
    _wait(browser, lambda b: b.find_elements(By.XPATH, xpath), 60,
          f"formgrader's {column} button on {page}").pop().click()
    modal = _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR,
                                                     "#error-modal, #success-modal"), 300,
                  f"the answer to {column}").pop()
    time.sleep(1)  # the modal's fade-in, for the screenshot
    _shot(hub, browser, name)
    return modal.get_attribute("id"), modal.text


def _hand_grade(hub, browser, student):
    """In Manual Grading, the TA sets HAND_SCORE on the typed answer's test cell and writes
    HAND_COMMENT under the answer; both saved in the gradebook."""
    from nbgrader.api import Gradebook
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys

    notebook = Path(ASSIGNMENT.notebook).stem
    browser.get(f"{hub.url}/services/{COURSE_ID}/formgrader/gradebook/{ASSIGNMENT.name}/"
                f"{notebook}")
    link = _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR,
                                                    "a[href*='/submissions/']"),
                 60, "the submission in Manual Grading")[0]
    _shot(hub, browser, "ta-manual-grading")
    browser.get(link.get_attribute("href"))  # the row's link (its twin, with the name, hidden)
    score = _wait(browser, lambda b: b.find_elements(By.ID, f"{TYPED}_tests"), 60,
                  f"the score box of {TYPED}'s test cell").pop()
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", score)
    score.clear()
    score.send_keys(str(HAND_SCORE), Keys.TAB)
    comment = browser.find_element(By.ID, f"{TYPED}-comment")
    browser.execute_script("arguments[0].scrollIntoView({block: 'center'});", comment)
    comment.send_keys(HAND_COMMENT, Keys.TAB)
    url = f"sqlite:///{hub.course / 'gradebook.db'}"

    def saved(_):
        with Gradebook(url) as gradebook:
            grade = gradebook.find_grade(f"{TYPED}_tests", notebook, ASSIGNMENT.name, student)
            remark = gradebook.find_comment(TYPED, notebook, ASSIGNMENT.name, student)
            return grade.manual_score == HAND_SCORE and remark.manual_comment == HAND_COMMENT

    _wait(browser, saved, 30, "the hand grade and comment in the gradebook")
    _shot(hub, browser, "ta-hand-grade")


def test_the_ta_opens_formgrader_and_its_buttons_work_beside_roots_grading(hub):
    """The TA's Courses tab lists the course, formgrader opens in its panel; as the grader
    account, after root's collect, grading and feedback: Collect succeeds, Autograde refuses
    and the graded copy is still there, a hand grade and a comment are saved, Generate and
    Release Feedback succeed."""
    from selenium.webdriver.common.by import By

    stage, student = "ta", hub.students[0]
    browser = _browser(hub)
    _login(hub, browser, hub.ta)
    _menu(browser, "Nbgrader", "Course List")
    link = _wait(browser, lambda b: next((a for a in b.find_elements(By.CSS_SELECTOR, "a")
                                          if a.text.strip() == COURSE_ID), None), 60,
                 f"{COURSE_ID} in the TA's Courses tab")
    _shot(hub, browser, "ta-courses")
    browser.get(link.get_attribute("href"))
    panel = _wait(browser, lambda b: b.find_elements(By.CSS_SELECTOR, ".jp-MainAreaWidget "
                                                     "iframe"), 120, "formgrader's panel").pop()
    browser.switch_to.frame(panel)  # formgrader's own pages, inside the panel
    _wait(browser, lambda b: "Manage Assignments" in b.find_element(By.TAG_NAME, "body").text
          and ASSIGNMENT.name in b.find_element(By.TAG_NAME, "body").text, 60,
          "formgrader's assignments in its panel")
    browser.switch_to.default_content()
    _shot(hub, browser, "ta-formgrader")

    graded = hub.course / "autograded" / student / ASSIGNMENT.name / ASSIGNMENT.notebook
    assert graded.exists(), "the graded copy was not there before Autograde"
    answers = {}
    for page, row, column in (("manage_assignments", ASSIGNMENT.name, "collect"),
                              (f"manage_submissions/{ASSIGNMENT.name}", student, "autograde")):
        answers[column] = _formgrader_button(hub, browser, page, row, column, f"ta-{column}")
    _hand_grade(hub, browser, student)
    for column in ("generate-feedback", "release-feedback"):
        answers[column] = _formgrader_button(hub, browser, f"manage_submissions/"
                                             f"{ASSIGNMENT.name}", student, column,
                                             f"ta-{column}")
    refused = answers.pop("autograde")
    assert refused[0] == "error-modal" and "cannot sandbox student code" in refused[1], refused
    assert graded.exists(), "Autograde removed the graded copy"
    failed = {column: text[-1500:] for column, (modal, text) in answers.items()
              if modal != "success-modal"}
    assert not failed, failed
    # the TA reads the students' work in formgrader, never on their servers
    browser.get(f"{hub.url}/user/{student}/lab")
    _wait(browser, lambda b: "403" in b.find_element(By.TAG_NAME, "body").text, 30,
          f"the hub's 403 for the TA on {student}'s server")
    problems = _problems(hub, browser, stage,
                         expected_statuses=[(403, f"client_id=jupyterhub-user-{student}&")])
    assert not problems, "\n".join(problems)


def test_the_student_fetches_the_hand_grade_formgrader_released(hub):
    from selenium.webdriver.common.by import By

    student, stage, browser = hub.students[0], "feedback again", hub.student_browser
    feedback = Path(f"/home/{student}") / ASSIGNMENT.name / "feedback"
    before = {path: path.stat().st_mtime for path in feedback.rglob("*.html")}
    _assignments(browser)  # the student's JupyterLab, still open since the last stage
    _button(browser, "submitted_assignments_list", "Fetch Feedback").click()
    # the link is there from the first fetch: wait for the page itself to be fetched again
    _wait(browser, lambda b: {path: path.stat().st_mtime for path in feedback.rglob("*.html")}
          != before, 60, "the feedback fetched again")
    after = {path: path.stat().st_mtime for path in feedback.rglob("*.html")}
    assert after.keys() == before.keys(), (before, after)
    total = float(sum(ASSIGNMENT.points.values()))
    # the hand grade, not the 3 points of autograding
    _open_feedback(hub, browser, student, f"Score: {total - 3 + HAND_SCORE:.1f} / {total:.1f}")
    assert HAND_COMMENT in browser.find_element(By.TAG_NAME, "body").text
    comment = browser.execute_script(
        "const found = [...document.querySelectorAll('*')].filter(e => e.children.length === 0"
        " && e.textContent.includes(arguments[0])); if (found.length) found[0].scrollIntoView("
        "{block: 'center'}); return found.length;", HAND_COMMENT)
    assert comment, "the comment is not on the page"
    _shot(hub, browser, "student-feedback-hand-grade")
    assert not _problems(hub, browser, stage), "\n".join(hub.problems[stage])
