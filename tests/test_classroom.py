"""The JupyterHub classroom (tools/classroom.py, `make classroom`), tried as its users would.

A real JupyterHub on 127.0.0.1 with an instructor and three students, each a Unix account with
a server of their own: the instructor releases an assignment (notebooks 00 and 01); the
students fetch it through the hub (nbgrader's assignment list, with their own tokens), answer
(one right, one wrong, one blank) by saving the notebooks through their servers, and submit;
the deadline passes before the third submits. The instructor collects, autogrades, writes and
releases feedback; each student fetches theirs. Then the exact scores and the late flag from
the gradebook, the feedback each student gets is theirs, what a student cannot read (tried
from the student's own kernel, through the hub), a student over their memory limit, and Ctrl+C.

Needs root (it makes Unix accounts) and npm; builds the classroom's environment in
/tmp/fmnist-classroom-test (about 2 minutes the first time, kept for the next run). Runs once,
on the default stack: the classroom installs its own environment, so the lowest stack's
session skips it (FMNIST_STACK=lowest). About 4 minutes on 2 cores.
"""

from __future__ import annotations

import csv
import datetime
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pytest
from helpers import SOLUTIONS_DIR, plain_text

from tools import classroom as classroom_module
from tools.classroom import CGROUP_V1
from tools.hub_client import Hub

ROOT = SOLUTIONS_DIR.parent
PREFIX = Path("/tmp/fmnist-classroom-test")
INSTRUCTOR = "fmnist-teacher"
RIGHT, WRONG, BLANK = "fmnist-ada", "fmnist-ben", "fmnist-cy"
STUDENTS = [RIGHT, WRONG, BLANK]
NOTEBOOKS = ["00_getting_started", "01_data_exploration_and_preprocessing"]
LOG = Path("/tmp/fmnist-classroom-test.log")  # The hub's log, kept after the run.
SMALL_LIMIT = 2**30  # BLANK's memory limit, 1 GiB (everyone else: 3 GiB).


def skip_without_a_classroom() -> None:
    """The hub's tests need root (Unix accounts) and npm, and run on the default stack only."""
    if os.geteuid() != 0:
        pytest.skip("the classroom makes Unix accounts: run the tests as root")
    if shutil.which("npm") is None:
        pytest.skip("JupyterHub's proxy comes from npm: apt-get install npm")
    if os.environ.get("FMNIST_STACK", "tests") != "tests":
        pytest.skip("the classroom installs its own environment: tested once, on the default stack")


#: WRONG's answers: each auto-graded exercise answered, wrongly.
WRONG_ANSWERS = {
    "00_getting_started": {
        "exercise_00_1": "sneaker_count = 1000",
        "exercise_00_3": "most_ink_class, least_ink_class = 'Sandal', 'Coat'",
    },
    "01_data_exploration_and_preprocessing": {
        "exercise_01_1": "background_share = np.zeros(num_classes)",
    },
}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def classroom_command(*arguments: str) -> subprocess.CompletedProcess:
    completed = subprocess.run(
        [sys.executable, "-m", "tools.classroom", *arguments, "--prefix", str(PREFIX)],
        cwd=ROOT, capture_output=True, text=True, timeout=1200, check=False,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return completed


def as_instructor(classroom: dict, *command: str, environment: dict[str, str] | None = None) -> str:
    """Run an nbgrader command as the instructor, in ~/course, as in a terminal of their server: from
    their own kernel, through the hub, with the environment their server has."""
    users = classroom["users"]
    if INSTRUCTOR not in users:
        users[INSTRUCTOR] = classroom["hub"].start(INSTRUCTOR)
    if "terminal" not in classroom:
        classroom["terminal"] = users[INSTRUCTOR].kernel("course")
    code = (
        "import os, subprocess\n"
        f"_run = subprocess.run(['nbgrader', *{list(command)!r}], capture_output=True, text=True,\n"
        f"                      env={{**os.environ, **{environment or {}!r}}})\n"
        "print(_run.returncode)\nprint(_run.stdout + _run.stderr)"
    )
    result = classroom["terminal"].execute(code, timeout=900)
    status, _, output = result.stdout.partition("\n")
    assert result.error is None, result.error
    assert status == "0", output[-3000:]
    return output


@pytest.fixture(scope="module")
def classroom(real_data_dir):
    skip_without_a_classroom()
    if (PREFIX / "hub" / "classroom.json").is_file():  # An earlier run that did not finish.
        classroom_command("remove", "--keep-environment")
    notebooks = [str(SOLUTIONS_DIR / f"{name}.ipynb") for name in NOTEBOOKS]
    classroom_command(
        "setup", "--homes", str(PREFIX / "home"), "--instructor", INSTRUCTOR, "--students", *STUDENTS,
        "--notebooks", *notebooks, "--data-dir", str(real_data_dir),
        "--mem-limit", "3G", "--mem-limit-for", f"{BLANK}={SMALL_LIMIT}",
    )  # fmt: skip
    port = free_port()
    log = open(os.open(LOG, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w")  # noqa: SIM115 (passwords in it)
    process = subprocess.Popen(
        [sys.executable, "-m", "tools.classroom", "start", "--prefix", str(PREFIX), "--port", str(port)],
        cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    hub = Hub(f"http://127.0.0.1:{port}", (PREFIX / "hub" / "admin_token").read_text().strip())
    hub.wait_until_up()
    state = {"hub": hub, "process": process, "port": port, "log": LOG, "users": {}}
    yield state
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
        process.wait(timeout=180)
    log.close()
    if not os.environ.get("FMNIST_CLASSROOM_KEEP"):  # Set it to look at a failed run's accounts and files.
        classroom_command("remove", "--keep-environment")


def home(user: str) -> Path:
    return Path(pwd.getpwnam(user).pw_dir)


def right_answers() -> dict[str, dict[str, str]]:
    """Every answer cell's solution, from the source notebooks."""
    answers = {}
    for name in NOTEBOOKS:
        notebook = nbformat.read(SOLUTIONS_DIR / f"{name}.ipynb", as_version=4)
        answers[name] = {
            cell.metadata["nbgrader"]["grade_id"]: cell.source
            for cell in notebook.cells
            if cell.metadata.get("nbgrader", {}).get("solution")
        }
    return answers


def answer(user, answers: dict[str, dict[str, str]]) -> None:
    """Type the answers into the fetched notebooks and save them, through the student's server."""
    for name, cells in answers.items():
        notebook = user.read_notebook(f"fmnist/{name}.ipynb")
        for cell in notebook.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in cells:
                cell.source = cells[grade_id]
        user.write_notebook(f"fmnist/{name}.ipynb", notebook)


def status(user, assignment: str = "fmnist") -> list[str]:
    """What the assignment list shows for ``assignment``: released, fetched, then also submitted."""
    return sorted({item["status"] for item in user.assignments() if item["assignment_id"] == assignment})


def gradebook():
    from nbgrader.api import Gradebook

    return Gradebook(f"sqlite:///{home(INSTRUCTOR) / 'course' / 'gradebook.db'}")


def scores(student: str) -> dict[str, float | None]:
    """The gradebook's score of every graded cell (None: waits for a grade by hand)."""
    with gradebook() as book:
        submission = book.find_submission("fmnist", student)
        return {
            grade.name: None if grade.needs_manual_grade else grade.auto_score
            for notebook in submission.notebooks
            for grade in notebook.grades
        }


def test_the_whole_nbgrader_loop_through_the_hub(classroom):
    hub, users = classroom["hub"], classroom["users"]
    as_instructor(classroom, "generate_assignment", "fmnist", "--force")
    as_instructor(classroom, "release_assignment", "fmnist", "--force")
    for name in STUDENTS:
        users[name] = user = hub.start(name)
        handouts = sorted(path.name for path in SOLUTIONS_DIR.glob("[0-9][0-9]_*.ipynb"))
        assert sorted(user.listing("notebooks")) == handouts  # Every lesson, without solution links.
        assert status(user) == ["released"]
        user.assignment_action("fetch", "fmnist")
        assert status(user) == ["fetched"]
        assert sorted(user.listing("fmnist")) == [f"{name}.ipynb" for name in NOTEBOOKS]
    answer(users[RIGHT], right_answers())
    answer(users[WRONG], WRONG_ANSWERS)
    for name in (RIGHT, WRONG):
        users[name].assignment_action("submit", "fmnist")
        assert status(users[name]) == ["fetched", "submitted"]
    # The deadline passes, then BLANK submits the notebooks as fetched.
    deadline = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f UTC")
    as_instructor(classroom, "db", "assignment", "add", "fmnist", f"--duedate={deadline}")
    classroom["deadline"] = datetime.datetime.strptime(deadline[:-4], "%Y-%m-%d %H:%M:%S.%f")
    time.sleep(1.5)
    users[BLANK].assignment_action("submit", "fmnist")

    log = as_instructor(classroom, "collect", "fmnist")
    assert log.count("Collecting submission") == 3, log
    as_instructor(classroom, "autograde", "fmnist")
    as_instructor(classroom, "generate_feedback", "fmnist")
    as_instructor(classroom, "release_feedback", "fmnist")

    right = {"check_00_1": 2, "check_00_3": 2, "exercise_00_2": None}
    right |= {"check_01_1": 2, "check_01_2": 2, "check_01_3": 2, "exercise_01_4": None}
    nothing = {name: 0 for name in right}
    assert scores(RIGHT) == right
    assert scores(WRONG) == nothing | {"exercise_00_2": 0, "exercise_01_4": 0}  # Blank open answers: 0.
    assert scores(BLANK) == nothing | {"exercise_00_2": 0, "exercise_01_4": 0}
    with gradebook() as book:
        late = {name: book.find_submission("fmnist", name).total_seconds_late > 0 for name in STUDENTS}
    assert late == {RIGHT: False, WRONG: False, BLANK: True}
    exporter = "--exporter=tools.nbgrader_course.ExerciseGradesExport"  # INSTRUCTORS.md's export.
    tools = {"PYTHONPATH": str(PREFIX / "lib")}
    as_instructor(classroom, "export", exporter, "--to", "grades_by_exercise.csv", environment=tools)
    with open(home(INSTRUCTOR) / "course" / "grades_by_exercise.csv", newline="") as file:
        rows = {row["student_id"]: row for row in csv.DictReader(file)}
    assert {name: (row["late"], row["score"]) for name, row in rows.items()} == {
        RIGHT: ("no", "10"), WRONG: ("no", "0"), BLANK: ("yes", "0"),
    }  # fmt: skip

    # Each student fetches feedback through the hub: their own answers and scores, nobody else's.
    total = {RIGHT: "Score: 4.0 / 6.0", WRONG: "Score: 0.0 / 6.0", BLANK: "Score: 0.0 / 6.0"}
    mine = {
        RIGHT: "sneaker_count = int(np.sum(test_labels[:100] == sneaker))",
        WRONG: "sneaker_count = 1000",
        BLANK: "Exercise 00.1: write your answer here",
    }
    for name in STUDENTS:
        user = users[name]
        user.assignment_action("fetch_feedback", "fmnist")
        (timestamp,) = user.listing("fmnist/feedback")
        pages = sorted(user.listing(f"fmnist/feedback/{timestamp}"))
        assert pages == [f"{notebook}.html" for notebook in NOTEBOOKS], name
        text = plain_text(user.read_text(f"fmnist/feedback/{timestamp}/00_getting_started.html"))
        assert mine[name] in text, name
        assert not [other for other, line in mine.items() if other != name and line in text], name
        assert "HIDDEN TESTS" not in text
        assert " ".join(text.split()).count(total[name]) == 1, (name, re.findall(r"Score: [^)]*", text)[:3])


def test_a_student_cannot_read_what_is_not_theirs(classroom):
    users = classroom["users"]
    if not users:
        pytest.skip("needs the loop's state (test_the_whole_nbgrader_loop_through_the_hub)")
    inbound = PREFIX / "exchange" / "fmnist" / "inbound"
    (submission,) = [path for path in inbound.iterdir() if path.name.startswith(f"{RIGHT}+")]
    instructor = home(INSTRUCTOR)
    source = instructor / "course/source/fmnist/00_getting_started.ipynb"
    package = next((PREFIX / "venv/lib").glob("python3*/site-packages/fmnist_utils/data.py"))
    kernel = users[WRONG].kernel()
    tries = {
        "list the submissions": f"os.listdir({str(inbound)!r})",
        "read another's submission": f"open({str(submission / '00_getting_started.ipynb')!r}).read()",
        "list another's submission": f"os.listdir({str(submission)!r})",
        "read the source notebooks": f"open({str(source)!r})",
        "read the gradebook": f"open({str(instructor / 'course/gradebook.db')!r}, 'rb')",
        "list the autograded work": f"os.listdir({str(instructor / 'course/autograded')!r})",
        "list another's home": f"os.listdir({str(home(RIGHT))!r})",
        "list the feedback": f"os.listdir({str(PREFIX / 'exchange/fmnist/feedback')!r})",
        "read the passwords": f"open({str(PREFIX / 'hub/passwords.txt')!r})",
        "change the course's package": f"open({str(package)!r}, 'a')",
        "take the course's folder": f"os.rename({str(PREFIX / 'exchange/fmnist')!r}, '/tmp/taken')",
    }
    assert kernel.execute("import os").error is None
    outcomes = {name: kernel.execute(code).error for name, code in tries.items()}
    assert {name: (error or "").split(":")[0] for name, error in outcomes.items()} == {
        name: "PermissionError" for name in tries
    }, outcomes
    # What is theirs: the released notebooks, the dataset.
    released = PREFIX / "exchange/fmnist/outbound/fmnist/00_getting_started.ipynb"
    assert kernel.execute(f"print(len(open({str(released)!r}).read()) > 0)").stdout == "True\n"
    assert kernel.execute("print(sorted(os.listdir(os.environ['FMNIST_DATA_DIR']))[0])").stdout == (
        "t10k-images-idx3-ubyte.gz\n"
    )
    kernel.close()
    # Through the hub, another student's server refuses the token; the Formgrader is the instructor's.
    other = users[WRONG].request("GET", f"../{RIGHT}/api/contents", check=False)
    assert other.status_code == 403, other.status_code
    assert users[WRONG].request("GET", "formgrader", check=False).status_code == 404
    teacher = users.get(INSTRUCTOR) or classroom["hub"].start(INSTRUCTOR)
    assert teacher.request("GET", "formgrader", check=False).status_code == 200
    # The submission's folder: the student's, and the instructor's group's (nbgrader makes it 0777).
    assert oct(submission.stat().st_mode & 0o777) == "0o770"
    assert submission.stat().st_gid == pwd.getpwnam(INSTRUCTOR).pw_gid


def test_collect_takes_only_what_each_student_handed_in_themselves(classroom):
    """WRONG hands in, after the deadline and past nbgrader's submit: a folder named after RIGHT, a
    folder of his own whose notebook is a link to the instructor's solutions, and one whose name
    says it came before the deadline."""
    users = classroom["users"]
    if "deadline" not in classroom:
        pytest.skip("needs the loop's state (test_the_whole_nbgrader_loop_through_the_hub)")
    with gradebook() as book:
        handed_in = book.find_submission("fmnist", WRONG).timestamp
    early = handed_in + (classroom["deadline"] - handed_in) / 2  # After his submission, before the deadline.
    inbound = PREFIX / "exchange/fmnist/inbound"
    source = home(INSTRUCTOR) / "course/source/fmnist/00_getting_started.ipynb"
    now = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
    folders = {
        "another's name": inbound / f"{RIGHT}+fmnist+{now} UTC+forged",
        "link": inbound / f"{WRONG}+fmnist+{now} UTC+linked",
        "earlier time": inbound / f"{WRONG}+fmnist+{early} UTC+early",
    }
    code = [
        "import shutil",
        f"for folder in {[str(path) for path in folders.values()]!r}:",
        "    shutil.copytree('fmnist', folder, ignore=shutil.ignore_patterns('.*', 'feedback'))",
        f"os.remove({str(folders['link'] / '00_getting_started.ipynb')!r})",
        f"os.symlink({str(source)!r}, {str(folders['link'] / '00_getting_started.ipynb')!r})",
        f"open({str(folders[next(iter(folders))] / 'forged.txt')!r}, 'w').write('{WRONG} was here')",
    ]
    kernel = users[WRONG].kernel()
    assert kernel.execute("import os\n" + "\n".join(code)).error is None
    kernel.close()
    log = as_instructor(classroom, "collect", "--update", "fmnist")
    assert f"named after {RIGHT} but made by uid {pwd.getpwnam(WRONG).pw_uid}" in log, log
    assert "00_getting_started.ipynb is a link or a special file" in log, log
    submitted = home(INSTRUCTOR) / "course/submitted"
    assert not (submitted / RIGHT / "fmnist" / "forged.txt").exists()
    assert "BEGIN HIDDEN TESTS" not in (submitted / WRONG / "fmnist" / "00_getting_started.ipynb").read_text()
    # The folder named before the deadline was collected, with the time it really came.
    when = (submitted / WRONG / "fmnist" / "timestamp.txt").read_text()
    assert datetime.datetime.strptime(when[:-4], "%Y-%m-%d %H:%M:%S.%f") > classroom["deadline"], when


@pytest.mark.skipif(not os.access(CGROUP_V1, os.W_OK), reason="no writable cgroup v1 memory controller")
def test_a_student_over_the_limit_loses_their_kernel_not_the_others_work(classroom):
    hub, users = classroom["hub"], classroom["users"]
    for name in (WRONG, BLANK):
        if name not in users:  # Run alone, without the loop before it.
            users[name] = hub.start(name)
    cgroup = CGROUP_V1 / "fmnist-classroom" / BLANK
    assert int((cgroup / "memory.limit_in_bytes").read_text()) == SMALL_LIMIT
    assert int((CGROUP_V1 / "fmnist-classroom" / WRONG / "memory.limit_in_bytes").read_text()) == 3 * 2**30
    theirs = users[WRONG].kernel()
    assert theirs.execute("work = 41").error is None
    greedy = users[BLANK].kernel()
    assert greedy.execute("import numpy as np\nkept = 1").error is None
    result = greedy.execute("big = np.ones(2 * 2**30 // 8)")  # 2 GiB, twice the limit.
    assert result.died, result
    assert theirs.execute("print(work + 1)").stdout == "42\n"  # The other student's kernel kept its work.
    assert users[BLANK].request("GET", "api/status").status_code == 200  # Their server is still up.
    again = users[BLANK].kernel()  # And they can go on, in a fresh kernel.
    assert again.execute("print(2 + 2)").stdout == "4\n"
    for kernel in (theirs, greedy, again):
        kernel.close()


def test_ctrl_c_stops_the_hub_and_leaves_nothing_running(classroom):
    process = classroom["process"]
    process.send_signal(signal.SIGINT)
    assert process.wait(timeout=180) == 0
    log = classroom["log"].read_text()
    assert "Stopped: no process of the classroom is left." in log, log[-2000:]
    uids = {pwd.getpwnam(name).pw_uid for name in [INSTRUCTOR, *STUDENTS]}
    left = [path.parent.name for path in Path("/proc").glob("[0-9]*/status") if _uid(path) in uids]
    assert left == []
    with socket.socket() as probe:
        assert probe.connect_ex(("127.0.0.1", classroom["port"])) != 0


def _uid(status: Path) -> int | None:
    try:
        return int(
            next(line for line in status.read_text().splitlines() if line.startswith("Uid:")).split()[1]
        )
    except (OSError, StopIteration):
        return None


# What runs without root: the checks made before anything is built.


@pytest.mark.parametrize(
    ("size", "expected"),
    [("3G", 3 * 2**30), ("1.5G", 1610612736), ("800M", 800 * 2**20), ("2gb", 2 * 2**30), ("1048576", 2**20)],
)
def test_memory_limits_are_read_as_powers_of_1024(size, expected):
    assert classroom_module.parse_size(size) == expected


@pytest.mark.parametrize("size", ["0", "lots", "-1G", "3X", "", "1.5.2G"])
def test_a_memory_limit_that_is_not_a_size_says_how_to_write_one(size):
    with pytest.raises(SystemExit, match=r"write a size such as 3G, 1.5G or 800M"):
        classroom_module.parse_size(size)


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--students", "Ada"], r"Account name 'Ada': use lower-case letters"),
        (["--students", "ada ben"], r"Account name 'ada ben'"),
        (["--students", "a" * 33], r"32 at most"),
        (["--students", "root"], r"'root' is a system account \(uid 0\): choose another name"),
        (["--students", "ada", "ada"], r"Each account once"),
        (["--instructor", "ada", "--students", "ada"], r"Each account once"),
        (["--mem-limit", "lots"], r"Memory limit 'lots'"),
        (["--students", "ada", "--mem-limit-for", "ada"], r"Memory limit ''"),
        (["--students", "ada", "--mem-limit-for", "ben=1G"], r"'ben' is not one of the students"),
    ],
)
def test_setup_refuses_bad_accounts_and_sizes_before_making_anything(
    arguments, message, tmp_path, monkeypatch
):
    monkeypatch.setattr(os, "geteuid", lambda: 0)  # The checks run as root, before anything is made.
    prefix = tmp_path / "classroom"
    with pytest.raises(SystemExit, match=message):
        classroom_module.main(["setup", "--prefix", str(prefix), *arguments])
    assert not prefix.exists()


def test_setup_without_root_says_to_use_sudo(monkeypatch, tmp_path):
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(SystemExit, match=r"run it with sudo \(sudo make classroom\)"):
        classroom_module.main(["setup", "--prefix", str(tmp_path / "classroom"), "--students", "ada"])
    assert not (tmp_path / "classroom").exists()


def test_the_kubernetes_values_pass_the_checks_and_a_misspelt_key_fails_them(tmp_path, capsys):
    from tools import check_helm_values

    assert check_helm_values.main([str(check_helm_values.VALUES)]) == 0
    misspelt = tmp_path / "values.yaml"
    misspelt.write_text(check_helm_values.VALUES.read_text().replace("\n  memory:\n", "\n  memmory:\n", 1))
    assert check_helm_values.main([str(misspelt)]) == 1
    assert "'memmory' was unexpected" in capsys.readouterr().out


def test_setup_refuses_an_account_it_did_not_make(monkeypatch, tmp_path):
    """``remove`` deletes the classroom's accounts: an existing one (say, the server's admin) is refused."""

    def lookup(name):
        if name == "ubuntu":
            return pwd.struct_passwd(("ubuntu", "x", 1500, 1500, "", "/home/ubuntu", "/bin/bash"))
        raise KeyError(name)

    monkeypatch.setattr(classroom_module.pwd, "getpwnam", lookup)
    monkeypatch.setattr(os, "geteuid", lambda: 0)
    with pytest.raises(SystemExit, match=r"'ubuntu' is an account this classroom did not make"):
        classroom_module.main(["setup", "--prefix", str(tmp_path / "classroom"), "--instructor", "ubuntu"])
    assert not (tmp_path / "classroom").exists()


def test_collect_copies_only_what_the_student_owns_and_never_through_a_link(tmp_path):
    from tools.classroom_exchange import copy_owned

    submission = tmp_path / "submission"
    (submission / "sub").mkdir(parents=True)
    (submission / "00.ipynb").write_text("mine")
    (submission / "sub" / "notes.txt").write_text("also mine")
    (submission / ".ipynb_checkpoints").mkdir()
    me = os.getuid()
    changed = copy_owned(
        str(submission), str(tmp_path / "copy"), me, shutil.ignore_patterns(".ipynb_checkpoints")
    )
    assert sorted(str(path.relative_to(tmp_path / "copy")) for path in (tmp_path / "copy").rglob("*")) == [
        "00.ipynb", "sub", "sub/notes.txt",
    ]  # fmt: skip
    assert changed == max(path.lstat().st_ctime for path in [submission, *submission.rglob("*")])
    with pytest.raises(ValueError, match=f"not a folder or file of uid {me + 1}"):
        copy_owned(str(submission), str(tmp_path / "theirs"), me + 1)
    (tmp_path / "solutions.ipynb").write_text("the answers")
    (submission / "01.ipynb").symlink_to(tmp_path / "solutions.ipynb")
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        copy_owned(str(submission), str(tmp_path / "linked"), me)
    (submission / "01.ipynb").unlink()
    os.mkfifo(submission / "01.ipynb")  # Would block a plain open().
    with pytest.raises(ValueError, match=r"01\.ipynb is not a folder or file"):
        copy_owned(str(submission), str(tmp_path / "fifo"), me)
    swapped = tmp_path / "swapped"
    swapped.symlink_to(tmp_path / "copy")  # The checked folder replaced by a link after the check.
    with pytest.raises(OSError, match="Too many levels of symbolic links"):
        copy_owned(str(swapped), str(tmp_path / "through"), me)
