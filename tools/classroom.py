"""A classroom on one machine: JupyterHub, one account per student, nbgrader's exchange.

``make classroom`` (as root) runs ``python -m tools.classroom setup`` then ``start``:

    setup   PREFIX (default /srv/fmnist-classroom) gets the course environment (a virtual
            environment every account can read and none can change: JupyterHub, JupyterLab,
            nbgrader, the course's requirements and package), the proxy (configurable-http-proxy
            from the npm registry), a verified copy of the dataset, nbgrader's exchange for the
            one course ``fmnist``, and the hub's configuration. Each user gets a Unix account and a
            private home: the instructor's holds the nbgrader course (``~/course``, its source
            notebooks and gradebook), each student's the handouts (``~/notebooks``, the exercise
            versions without solution links). Passwords are generated, never defaults: they are
            printed and kept in PREFIX/hub/passwords.txt (readable by root only).
    start   JupyterHub on 127.0.0.1 (PORT, default 8000) until Ctrl+C, which stops every
            student's server and the proxy; it then checks that no process of the classroom's
            accounts is left.
    remove  deletes the accounts, their homes and PREFIX.

Each student's server and kernels run in a memory cgroup of their own (cgroup v1's memory
controller), limited to ``--mem-limit``: a student over the limit loses their kernel, nobody
else loses anything. Without that controller the hub warns and runs without limits.
Course tooling: not part of the package students install. docs/classroom.md explains it.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import hmac
import io
import json
import os
import pwd
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

REPOSITORY = Path(__file__).resolve().parent.parent
COURSE_ID = "fmnist"
#: What the course environment holds beside the course's own requirements (one list, as Binder's).
HUB_REQUIREMENTS = ["jupyterhub>=5.0", "nbgrader>=0.9"]
PROXY = "configurable-http-proxy@^4.6"
#: The course tooling the instructor's nbgrader configuration imports (tools/nbgrader_course.py).
TOOLS = ["__init__.py", "nbgrader_course.py", "student.py", "classroom.py", "classroom_exchange.py"]
CGROUP_V1 = Path("/sys/fs/cgroup/memory")
RUNUSER = shutil.which("runuser") or "/usr/sbin/runuser"  # In /usr/sbin, not on every PATH.
#: nbgrader's Lab extensions only the instructor needs (students keep the assignment list).
INSTRUCTOR_LAB_EXTENSIONS = ["@jupyter/nbgrader:formgrader", "@jupyter/nbgrader:create-assignment"]
INSTRUCTOR_SERVER_EXTENSIONS = ["nbgrader.server_extensions.formgrader"]


class Layout:
    """Where everything of a classroom lives, under ``prefix``."""

    def __init__(self, prefix: str | os.PathLike[str]) -> None:
        self.prefix = Path(prefix).resolve()
        self.venv = self.prefix / "venv"
        self.bin = self.venv / "bin"
        self.lib = self.prefix / "lib"  # A copy of the course tooling (TOOLS), read-only.
        self.proxy = self.prefix / "proxy" / "node_modules" / ".bin" / "configurable-http-proxy"
        self.data = self.prefix / "data" / "fashion-mnist"
        self.exchange = self.prefix / "exchange"
        self.hub = self.prefix / "hub"  # Root only: database, secrets, passwords, settings.
        self.settings = self.hub / "classroom.json"
        self.passwords = self.hub / "passwords.txt"
        self.admin_token = self.hub / "admin_token"
        self.config = self.hub / "jupyterhub_config.py"

    def read_settings(self) -> dict:
        """The settings setup wrote (students, limits, mode); stops if there is no classroom."""
        if not self.settings.is_file():
            raise SystemExit(f"No classroom in {self.prefix}: run `python -m tools.classroom setup` first.")
        return json.loads(self.settings.read_text())


# ---------------------------------------------------------------------------------------------
# setup


def setup(arguments: argparse.Namespace) -> Layout:
    """Build (or bring up to date) the classroom described by ``arguments``."""
    _require_root()
    os.umask(0o022)
    layout = Layout(arguments.prefix)
    _own_folders(layout)
    _environment(layout, arguments.python)
    _lab_settings(layout)
    _proxy(layout)
    _data(layout, arguments.data_dir)
    settings = _settings(layout, arguments)
    for name in [arguments.instructor, *arguments.students]:
        if _account(name, Path(arguments.homes)):
            settings["created"].append(name)
            layout.settings.write_text(
                json.dumps(settings, indent=2)
            )  # remove finds it, even if a step fails.
    _exchange(layout, arguments.instructor)
    _course(layout, arguments.instructor, arguments.assignment, arguments.notebooks)
    _handouts(layout, arguments.students)
    passwords = _passwords(layout, [settings["instructor"], *settings["students"]])
    layout.config.write_text(HUB_CONFIG.format(lib=str(layout.lib), prefix=str(layout.prefix)))
    students = len(settings["students"])
    print(f"Classroom ready in {layout.prefix}: {students} students, instructor {arguments.instructor}.")
    _print_logins(passwords)
    return layout


def _own_folders(layout: Layout) -> None:
    """PREFIX and PREFIX/hub: root's, and nobody else may write into PREFIX (root runs what is in it)."""
    for folder, mode in ((layout.prefix, 0o755), (layout.hub, 0o700)):
        folder.mkdir(parents=True, exist_ok=True)
        if folder.lstat().st_uid != 0 or folder.is_symlink():
            raise SystemExit(f"{folder} is not root's own folder: choose another --prefix.")
        folder.chmod(mode)


def _settings(layout: Layout, arguments: argparse.Namespace) -> dict:
    """The classroom's settings: the earlier setup's, with this one's students added."""
    settings = json.loads(layout.settings.read_text()) if layout.settings.is_file() else {"created": []}
    students = [*settings.get("students", []), *arguments.students]
    settings |= {
        "instructor": arguments.instructor,
        "students": list(dict.fromkeys(students)),
        "mem_limit": parse_size(arguments.mem_limit),
        "mem_limits": {name: parse_size(size) for name, size in _limits_for(arguments).items()},
        "quick": arguments.quick,
    }
    layout.settings.write_text(json.dumps(settings, indent=2))
    return settings


def _limits_for(arguments: argparse.Namespace) -> dict[str, str]:
    return dict(item.partition("=")[::2] for item in arguments.mem_limit_for)


def _require_root() -> None:
    if os.geteuid() != 0:
        raise SystemExit(
            "The classroom makes Unix accounts and runs JupyterHub as root: run it with sudo "
            "(sudo make classroom)."
        )


def _run(*command: str | os.PathLike[str], user: str | None = None, **kwargs) -> None:
    """Run ``command`` (as ``user``), stop with its output if it fails."""
    prefix = [RUNUSER, "-u", user, "--"] if user else []
    completed = subprocess.run([*prefix, *map(str, command)], capture_output=True, text=True, **kwargs)
    if completed.returncode != 0:
        raise SystemExit(f"{' '.join(map(str, command))} failed:\n{completed.stdout}{completed.stderr}")


def _environment(layout: Layout, python: str | None) -> None:
    """The shared course environment: installed once, again only when the course's files change."""
    (layout.lib / "tools").mkdir(parents=True, exist_ok=True)
    for name in TOOLS:
        shutil.copy2(REPOSITORY / "tools" / name, layout.lib / "tools" / name)
    stamp = layout.venv / ".classroom-installed"
    digest = _source_digest()
    if stamp.is_file() and stamp.read_text() == digest:
        return
    interpreter = python or _python_everyone_can_run()
    print(f"Installing the course environment in {layout.venv} (Python: {interpreter}) ...", flush=True)
    _run(interpreter, "-m", "venv", "--clear", layout.venv)
    requirements = [REPOSITORY / "requirements.txt", REPOSITORY / "requirements-deploy.txt"]
    options = [item for path in requirements for item in ("-r", path)]
    _run(layout.bin / "python", "-m", "pip", "install", "--quiet", *options, *HUB_REQUIREMENTS, REPOSITORY)
    for name, data in _instructor_only(enabled=False).items():
        (layout.venv / "etc" / "jupyter" / name).parent.mkdir(parents=True, exist_ok=True)
        (layout.venv / "etc" / "jupyter" / name).write_bytes(data)
    stamp.write_text(digest)


def _lab_settings(layout: Layout) -> None:
    """No "Jupyter news?" or "a newer JupyterLab is available" prompts: students cannot update it."""
    settings = layout.venv / "share" / "jupyter" / "lab" / "settings"
    settings.mkdir(parents=True, exist_ok=True)
    prompts = {
        "@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": False}
    }
    (settings / "overrides.json").write_text(json.dumps(prompts, indent=2))


def _source_digest() -> str:
    """A digest of what the environment is installed from: the requirements and the package."""
    files = [
        REPOSITORY / "requirements.txt",
        REPOSITORY / "requirements-deploy.txt",
        REPOSITORY / "pyproject.toml",
    ]
    files += sorted((REPOSITORY / "fmnist_utils").rglob("*.py"))
    digest = hashlib.sha256(" ".join(HUB_REQUIREMENTS).encode())
    for path in files:
        digest.update(path.read_bytes())
    return digest.hexdigest()


def _python_everyone_can_run() -> str:
    """A Python 3.10+ whose files every account can read (a pyenv under /root is not one)."""
    candidates = [
        os.path.join(sys.base_prefix, "bin", "python3"),
        shutil.which("python3"),
        "/usr/bin/python3",
    ]
    check = "import sys, venv; sys.exit(sys.version_info < (3, 10))"
    for candidate in filter(None, candidates):
        probe = subprocess.run([RUNUSER, "-u", "nobody", "--", candidate, "-c", check], capture_output=True)
        if probe.returncode == 0:
            return candidate
    raise SystemExit(
        "No Python 3.10+ that every account can run (tried "
        + ", ".join(filter(None, candidates))
        + "): install one (apt-get install python3 python3-venv) or give --python PATH."
    )


def _proxy(layout: Layout) -> None:
    """configurable-http-proxy, JupyterHub's proxy, from the npm registry (once)."""
    if layout.proxy.exists():
        return
    if not shutil.which("npm"):
        raise SystemExit("JupyterHub's proxy comes from npm: install Node.js and npm (apt-get install npm).")
    _run("npm", "install", "--silent", "--prefix", layout.proxy.parents[2], PROXY)


def _data(layout: Layout, data_dir: str | None) -> None:
    """A verified, read-only copy of the dataset that every server reads (FMNIST_DATA_DIR)."""
    layout.data.mkdir(parents=True, exist_ok=True)
    source = Path(data_dir or os.environ.get("FMNIST_DATA_DIR", "")).expanduser()
    if data_dir or os.environ.get("FMNIST_DATA_DIR"):
        for path in source.glob("*-ubyte.gz"):
            if not (layout.data / path.name).exists():
                shutil.copyfile(path, layout.data / path.name)
    # Verifies the copy (SHA-256), or downloads what is missing.
    environment = {**os.environ, "FMNIST_DATA_DIR": str(layout.data)}
    _run(layout.bin / "python", "-m", "fmnist_utils", "download", "--data-dir", layout.data, env=environment)


def _account(name: str, homes: Path) -> bool:
    """A Unix account with a private home (Debian's useradd makes homes readable by all).

    Returns:
        Whether it was made now.
    """
    made = False
    try:
        home = Path(pwd.getpwnam(name).pw_dir)
    except KeyError:
        homes.mkdir(parents=True, exist_ok=True)
        _run(
            "useradd",
            "--create-home",
            "--user-group",
            "--home-dir",
            homes / name,
            "--shell",
            "/bin/bash",
            name,
        )
        home, made = homes / name, True
    home.chmod(0o700)
    return made


def _give(user: str, files: dict[str, bytes]) -> None:
    """Put ``files`` (paths relative to the user's home) there *as the user*, keeping those already
    there: root never writes in a home, where the user could have planted a link."""
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
            tar.addfile(info, io.BytesIO(data))
    home = pwd.getpwnam(user).pw_dir
    command = [RUNUSER, "-u", user, "--", "tar", "--extract", "--skip-old-files", "--directory", home]
    completed = subprocess.run(command, input=archive.getvalue(), capture_output=True, check=False)
    if completed.returncode != 0:
        raise SystemExit(f"Could not give {user} their files: {completed.stderr.decode()}")


def _exchange(layout: Layout, instructor: str) -> None:
    """The exchange: writable by all (nbgrader checks it), sticky (nobody removes another's folder),
    and the course's folder made now, the instructor's, so that no student can take its name first."""
    layout.exchange.mkdir(exist_ok=True)
    layout.exchange.chmod(0o1777)
    course, owner = layout.exchange / COURSE_ID, pwd.getpwnam(instructor)
    if not course.exists():
        course.mkdir(mode=0o755)
        os.chown(course, owner.pw_uid, owner.pw_gid)
    if course.is_symlink() or course.lstat().st_uid != owner.pw_uid:
        raise SystemExit(f"{course} is not {instructor}'s folder: move it away and run the setup again.")
    config = layout.venv / "etc" / "jupyter" / "nbgrader_config.py"
    config.parent.mkdir(parents=True, exist_ok=True)
    config.write_text(
        "# Every account's nbgrader settings (tools/classroom.py): the one course, its exchange,\n"
        "# private submissions, collected only from their own students (tools/classroom_exchange.py).\n"
        "import sys\n\n"
        f"sys.path.insert(0, {str(layout.lib)!r})\n"
        "c = get_config()  # noqa: F821\n"
        f"c.CourseDirectory.course_id = {COURSE_ID!r}\n"
        f"c.Exchange.root = {str(layout.exchange)!r}\n"
        'c.ExchangeFactory.submit = "tools.classroom_exchange.PrivateSubmit"\n'
        'c.ExchangeFactory.collect = "tools.classroom_exchange.PrivateCollect"\n'
    )


def _course(layout: Layout, instructor: str, assignment: str, notebooks: Sequence[str]) -> None:
    """The instructor's nbgrader course, ~/course with the assignment's source notebooks, and their
    settings (the Formgrader on); files already there are kept."""
    course = Path(pwd.getpwnam(instructor).pw_dir) / "course"
    files = {
        f"course/source/{assignment}/{Path(name).name}": (REPOSITORY / name).read_bytes()
        for name in notebooks
    }
    files |= {f".jupyter/{name}": data for name, data in _instructor_only(enabled=True).items()}
    formgrader = (
        f"c = get_config()  # noqa: F821\nc.CourseDirectory.root = {str(course)!r}  # The Formgrader's.\n"
    )
    files[".jupyter/nbgrader_config.py"] = formgrader.encode()
    _give(instructor, files)
    _run(
        layout.bin / "python", "-m", "tools.nbgrader_course", course, "--exchange", layout.exchange,
        user=instructor, cwd=layout.lib,
    )  # fmt: skip


def _instructor_only(*, enabled: bool) -> dict[str, bytes]:
    """nbgrader's Formgrader and Create Assignment: off for everyone (the environment's settings),
    on in the instructor's (~/.jupyter, which JupyterLab and Jupyter Server read last).

    Returns:
        The two settings files, by path relative to a Jupyter configuration folder.
    """
    lab = {"disabledExtensions": {name: not enabled for name in INSTRUCTOR_LAB_EXTENSIONS}}
    server = {"ServerApp": {"jpserver_extensions": {name: enabled for name in INSTRUCTOR_SERVER_EXTENSIONS}}}
    return {
        "labconfig/page_config.json": json.dumps(lab, indent=2).encode(),
        "jupyter_server_config.json": json.dumps(server, indent=2).encode(),
    }


def _handouts(layout: Layout, students: Sequence[str]) -> None:
    """~/notebooks: the exercise versions without solution links (tools/student.py); a student's
    own files there are kept."""
    with tempfile.TemporaryDirectory() as folder:
        _run(layout.bin / "python", REPOSITORY / "tools" / "student.py", REPOSITORY / "solutions", folder)
        files = {f"notebooks/{path.name}": path.read_bytes() for path in sorted(Path(folder).iterdir())}
    for student in students:
        _give(student, files)


def _passwords(layout: Layout, users: Sequence[str]) -> dict[str, str]:
    """Generated passwords, kept from an earlier setup; root-only file."""
    known = {}
    if layout.passwords.is_file():
        known = dict(line.split(" ", 1) for line in layout.passwords.read_text().splitlines() if line)
    passwords = {name: known.get(name) or _password() for name in users}
    layout.passwords.touch(mode=0o600)
    layout.passwords.write_text("".join(f"{name} {password}\n" for name, password in passwords.items()))
    if not layout.admin_token.is_file():
        layout.admin_token.touch(mode=0o600)
        layout.admin_token.write_text(secrets.token_hex(32))
    return passwords


def _password() -> str:
    """12 letters and digits: easy to read out, hard to guess (71 bits)."""
    alphabet = "abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(12))


def _print_logins(passwords: dict[str, str]) -> None:
    print("Log in with (also in the root-only passwords file):")
    for name, password in passwords.items():
        print(f"  {name:<20} {password}")


# ---------------------------------------------------------------------------------------------
# start, remove


def start(arguments: argparse.Namespace) -> int:
    """Run the hub in the foreground; Ctrl+C stops it, its servers and the proxy."""
    _require_root()
    layout = Layout(arguments.prefix)
    settings = layout.read_settings()
    if _port_taken(arguments.port):
        raise SystemExit(f"Port {arguments.port} is taken: choose another with PORT=... (make) or --port.")
    if not os.access(CGROUP_V1, os.W_OK):
        print("No cgroup v1 memory controller here: the memory limits are NOT enforced (docs/classroom.md).")
    environment = {**os.environ, "PATH": f"{layout.bin}{os.pathsep}{os.environ.get('PATH', '')}"}
    environment |= {"FMNIST_CLASSROOM_PORT": str(arguments.port), "FMNIST_CLASSROOM_IP": arguments.ip}
    for stop in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # Ctrl+C, kill, a closed terminal.
        signal.signal(stop, signal.default_int_handler)
    hub = subprocess.Popen(
        [layout.bin / "jupyterhub", "-f", layout.config],
        cwd=layout.hub,
        env=environment,
        start_new_session=True,
    )
    try:
        print(f"Classroom: http://{arguments.ip}:{arguments.port}/ (Ctrl+C stops it)", flush=True)
        _print_logins(dict(line.split(" ", 1) for line in layout.passwords.read_text().splitlines() if line))
        return hub.wait()
    except KeyboardInterrupt:
        return _stop(hub)
    finally:
        for stop in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):  # A second Ctrl+C waits for the end.
            signal.signal(stop, signal.SIG_IGN)
        _clean_up(layout, [settings["instructor"], *settings["students"]])


def _stop(hub: subprocess.Popen) -> int:
    """SIGINT: JupyterHub stops every server and the proxy, then exits; if it does not, kill it."""
    hub.send_signal(signal.SIGINT)
    try:
        return hub.wait(timeout=120)
    except (subprocess.TimeoutExpired, KeyboardInterrupt):
        os.killpg(hub.pid, signal.SIGKILL)
        return hub.wait()


def _clean_up(layout: Layout, users: Sequence[str]) -> None:
    """Give the servers' kernels 15 s to finish stopping, then kill what is left, and say so."""
    deadline = time.monotonic() + 15
    while (left := _left_over(layout, users)) and time.monotonic() < deadline:
        time.sleep(0.5)
    for pid in left:
        with contextlib.suppress(ProcessLookupError):  # It ended on its own meanwhile.
            os.kill(pid, signal.SIGKILL)
    if left:
        print(f"Stopped; killed {len(left)} process(es) the hub left: {left}", flush=True)
    else:
        print("Stopped: no process of the classroom is left.", flush=True)


def _port_taken(port: int) -> bool:
    """Whether something answers on 127.0.0.1:``port``."""
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) == 0


def _left_over(layout: Layout, users: Sequence[str]) -> list[int]:
    """Processes of the classroom's accounts, and its own proxy, still running."""
    uids, proxy = {pwd.getpwnam(name).pw_uid for name in users}, str(layout.proxy.parents[2]).encode()
    left = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            command = (status.parent / "cmdline").read_bytes()
        except OSError:
            continue
        uid = int(next(line for line in text.splitlines() if line.startswith("Uid:")).split()[1])
        if uid in uids or proxy in command:
            left.append(int(status.parent.name))
    return sorted(left)


def remove(arguments: argparse.Namespace) -> None:
    """Delete the accounts this classroom made (with their homes), then PREFIX."""
    _require_root()
    layout = Layout(arguments.prefix)
    settings = layout.read_settings()
    failed = [name for name in settings.get("created", []) if not _delete_account(name)]
    kept = (
        {layout.venv, layout.lib, layout.proxy.parents[2], layout.data.parent}
        if arguments.keep_environment
        else set()
    )
    for path in layout.prefix.iterdir():
        if path not in kept:
            shutil.rmtree(path) if path.is_dir() else path.unlink()
    if not kept:
        layout.prefix.rmdir()
    print(f"Removed the classroom ({'all but its environment' if kept else layout.prefix}) and its accounts.")
    if failed:
        raise SystemExit(f"Could not delete the accounts {', '.join(failed)}: see `userdel --remove NAME`.")


def _delete_account(name: str) -> bool:
    """Stop the account's processes, delete it with its home and its memory cgroup."""
    subprocess.run(["pkill", "-KILL", "-u", name], check=False)
    for _ in range(50):  # pkill does not wait.
        if subprocess.run(["pgrep", "-u", name], capture_output=True, check=False).returncode != 0:
            break
        time.sleep(0.1)
    deleted = subprocess.run(["userdel", "--remove", name], capture_output=True, check=False).returncode in (
        0,
        6,
    )
    cgroup = CGROUP_V1 / "fmnist-classroom" / name
    if cgroup.is_dir():
        cgroup.rmdir()
    return deleted


# ---------------------------------------------------------------------------------------------
# The hub's side: jupyterhub_config.py imports these (the hub runs as root).

HUB_CONFIG = """\
# JupyterHub settings for the course's classroom, written by tools/classroom.py (setup).
import sys

sys.path.insert(0, {lib!r})
from tools.classroom import configure_hub  # noqa: E402

configure_hub(get_config(), {prefix!r})  # noqa: F821
"""


def configure_hub(c, prefix: str) -> None:
    """Set JupyterHub's configuration for the classroom.

    Args:
        c: JupyterHub's configuration object (``get_config()`` in jupyterhub_config.py).
        prefix: the classroom's folder (``setup --prefix``).
    """
    from jupyterhub.auth import Authenticator
    from jupyterhub.spawner import LocalProcessSpawner

    layout = Layout(prefix)
    settings = layout.read_settings()
    port = int(os.environ.get("FMNIST_CLASSROOM_PORT", "8000"))
    c.JupyterHub.bind_url = f"http://{os.environ.get('FMNIST_CLASSROOM_IP', '127.0.0.1')}:{port}"
    c.JupyterHub.hub_bind_url = f"http://127.0.0.1:{_free_port()}"
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{_free_port()}"
    c.ConfigurableHTTPProxy.command = [str(layout.proxy)]
    c.ConfigurableHTTPProxy.pid_file = str(layout.hub / "proxy.pid")
    c.JupyterHub.db_url = f"sqlite:///{layout.hub / 'jupyterhub.sqlite'}"
    c.JupyterHub.cookie_secret_file = str(layout.hub / "cookie_secret")
    c.JupyterHub.authenticator_class = _authenticator(Authenticator, layout)
    c.Authenticator.allowed_users = {settings["instructor"], *settings["students"]}  # No hub admin.
    c.JupyterHub.spawner_class = _spawner(LocalProcessSpawner, settings)
    c.Spawner.cmd = [str(layout.bin / "jupyterhub-singleuser")]
    c.Spawner.default_url = "/lab"
    c.Spawner.notebook_dir = "~"
    c.Spawner.mem_limit = settings["mem_limit"]
    c.Spawner.start_timeout = c.Spawner.http_timeout = 180  # Two cores, many students at once.
    c.Spawner.environment = {
        "PATH": f"{layout.bin}:/usr/local/bin:/usr/bin:/bin",
        "FMNIST_DATA_DIR": str(layout.data),
        "FMNIST_QUICK": "1" if settings["quick"] else "0",
    }
    c.JupyterHub.services = [{"name": "classroom-admin", "api_token": layout.admin_token.read_text().strip()}]
    c.JupyterHub.load_roles = [
        {
            "name": "classroom-admin",
            "scopes": [
                "admin:users",
                "admin:servers",
                "tokens",
                "list:users",
                "read:users",
                "access:servers",
            ],
            "services": ["classroom-admin"],
        }
    ]


def _free_port() -> int:
    """A port nothing listens on now (for the hub's API and the proxy's)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _authenticator(base: type, layout: Layout) -> type:
    """Checks the generated passwords (PREFIX/hub/passwords.txt, root only)."""

    class ClassroomAuthenticator(base):
        async def authenticate(self, handler, data):
            lines = layout.passwords.read_text().splitlines()
            passwords = dict(line.split(" ", 1) for line in lines if line)
            name, password = data.get("username", ""), data.get("password", "")
            expected = passwords.get(name)
            if expected is not None and hmac.compare_digest(expected.encode(), password.encode()):
                return name
            return None

    return ClassroomAuthenticator


def _spawner(base: type, settings: dict) -> type:
    """LocalProcessSpawner with each server (and its kernels) in a memory cgroup of its own."""

    class ClassroomSpawner(base):
        def _cgroup(self) -> Path | None:
            if not os.access(CGROUP_V1, os.W_OK):
                self.log.warning("No writable cgroup v1 memory controller: memory limits are not enforced.")
                return None
            limit = settings["mem_limits"].get(self.user.name) or settings["mem_limit"]
            cgroup = CGROUP_V1 / "fmnist-classroom" / self.user.name
            cgroup.mkdir(parents=True, exist_ok=True)
            (cgroup / "memory.limit_in_bytes").write_text(str(limit))
            (cgroup / "memory.max_usage_in_bytes").write_text("0")  # Peak since this start.
            return cgroup

        def make_preexec_fn(self, name):
            if name not in (settings["instructor"], *settings["students"]):  # Never another Unix account.
                raise PermissionError(f"{name} is not one of the classroom's accounts")
            drop_privileges = super().make_preexec_fn(name)
            cgroup = self._cgroup()

            def preexec() -> None:
                if cgroup is not None:
                    (cgroup / "cgroup.procs").write_text(str(os.getpid()))
                drop_privileges()

            return preexec

    return ClassroomSpawner


def parse_size(size: str) -> int:
    """``"2G"`` -> 2147483648 (K, M, G, T: powers of 1024; a plain number is bytes)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)B?\s*", str(size), flags=re.IGNORECASE)
    if not match or float(match[1]) == 0:
        raise SystemExit(f"Memory limit {size!r}: write a size such as 3G, 1.5G or 800M.")
    return int(float(match[1]) * 1024 ** " KMGT".index(match[2].upper() or " "))


def _check(arguments: argparse.Namespace) -> None:
    """Account names and sizes, before anything is made: an account that exists already must be one
    this classroom made (the classroom changes its home, and ``remove`` deletes it)."""
    _require_root()  # Before reading the root-only settings.
    settings = Layout(arguments.prefix).settings
    ours = json.loads(settings.read_text()).get("created", []) if settings.is_file() else []
    names = [arguments.instructor, *arguments.students]
    for name in names:
        if not re.fullmatch(r"[a-z_][a-z0-9_-]{0,31}", name):
            raise SystemExit(f"Account name {name!r}: use lower-case letters, digits, - and _ (32 at most).")
        try:
            uid = pwd.getpwnam(name).pw_uid
        except KeyError:
            continue
        if uid < 1000 or uid >= 60000:
            raise SystemExit(f"{name!r} is a system account (uid {uid}): choose another name.")
        if name not in ours:
            raise SystemExit(f"{name!r} is an account this classroom did not make: choose another name.")
    if len(set(names)) != len(names):
        raise SystemExit(f"Each account once: {', '.join(names)}.")
    for name, size in [("everyone", arguments.mem_limit), *_limits_for(arguments).items()]:
        parse_size(size)
        if name != "everyone" and name not in arguments.students:
            raise SystemExit(f"--mem-limit-for {name}={size}: {name!r} is not one of the students.")


# ---------------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m tools.classroom setup|start|remove``; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m tools.classroom", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    for name in ("setup", "start", "remove"):
        command = commands.add_parser(name)
        command.add_argument("--prefix", default="/srv/fmnist-classroom", help="where the classroom lives")
    setup_parser = commands.choices["setup"]
    setup_parser.add_argument("--count", type=int, default=3, help="number of students (student1, ...)")
    setup_parser.add_argument(
        "--students", nargs="+", help="the students' account names (instead of --count)"
    )
    setup_parser.add_argument("--instructor", default="instructor", help="the instructor's account name")
    setup_parser.add_argument("--homes", default="/home", help="where new accounts' homes go")
    setup_parser.add_argument("--assignment", default="fmnist", help="the nbgrader assignment's name")
    setup_parser.add_argument(
        "--notebooks", nargs="+", help="the assignment's notebooks (solutions/), all by default"
    )
    setup_parser.add_argument("--mem-limit", default="3G", help="memory per student's server and kernels")
    setup_parser.add_argument("--mem-limit-for", nargs="*", default=[], metavar="NAME=SIZE")
    setup_parser.add_argument("--full", dest="quick", action="store_false", help="full mode (default: quick)")
    setup_parser.add_argument("--data-dir", help="a local copy of the dataset (default: $FMNIST_DATA_DIR)")
    setup_parser.add_argument("--python", help="the Python to build the course environment from")
    commands.choices["start"].add_argument("--port", type=int, default=8000)
    commands.choices["start"].add_argument(
        "--ip", default="127.0.0.1", help="address to listen on (another than 127.0.0.1 needs a TLS proxy)"
    )
    commands.choices["remove"].add_argument("--keep-environment", action="store_true")
    arguments = parser.parse_args(argv)
    if arguments.command == "setup":
        if arguments.count < 1:
            parser.error("--count: at least 1 student")
        arguments.students = arguments.students or [
            f"student{number}" for number in range(1, arguments.count + 1)
        ]
        _check(arguments)
        missing = [name for name in arguments.notebooks or [] if not (REPOSITORY / name).is_file()]
        if missing:
            parser.error(
                f"--notebooks: no such notebook {', '.join(missing)} (give paths like solutions/00_....ipynb)"
            )
        if not arguments.notebooks:
            arguments.notebooks = sorted(
                str(path.relative_to(REPOSITORY))
                for path in (REPOSITORY / "solutions").glob("[0-9][0-9]_*.ipynb")
            )
        setup(arguments)
        return 0
    if arguments.command == "start":
        return start(arguments)
    remove(arguments)
    return 0


if __name__ == "__main__":
    sys.exit(main())
