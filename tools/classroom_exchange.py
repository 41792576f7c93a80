"""nbgrader's exchange for the JupyterHub classroom (tools/classroom.py): private submissions,
and a collect that takes only what each student handed in themselves.

nbgrader hands a submission in as a folder every account may enter (0777), its files readable
by all, and relies on nobody finding it: the inbound folder cannot be listed and the folder's
name ends in a random string. :class:`PrivateSubmit` closes the folder to everyone but the
student and the instructor (0770, the instructor's group, which the inbound folder's group-ID
bit gives it).

Any student may also create folders in the inbound folder, and nbgrader's collect (run as the
instructor) only warns when a folder's name and owner disagree, follows symbolic links, and
takes the hand-in time from the folder's name. :class:`PrivateCollect` skips a folder that is
not a real folder of the student it names, or that holds anything but files and folders (a
link to the instructor's solutions would otherwise be collected as the student's work), copies
links as links and checks the copy again, and records as the hand-in time the later of the
name's time and the last change of anything in the folder (which no student can set back).

The classroom's nbgrader settings select both (``c.ExchangeFactory``). Course tooling: not part
of the package students install.
"""

from __future__ import annotations

import datetime
import glob
import os
import pwd
import shutil
import stat

from nbgrader.exchange.default.collect import ExchangeCollect
from nbgrader.exchange.default.submit import ExchangeSubmit


class PrivateSubmit(ExchangeSubmit):
    """nbgrader's submit, with the submission's folder closed to other students."""

    def copy_files(self) -> None:
        super().copy_files()  # Ends with the submission's folder made 0777.
        os.chmod(os.path.join(self.inbound_path, self.assignment_filename), 0o770)


class PrivateCollect(ExchangeCollect):
    """nbgrader's collect, for submissions each student handed in themselves."""

    def init_src(self) -> None:
        super().init_src()  # nbgrader's checks of the inbound folder; its choice is redone below.
        pattern = f"{self.coursedir.student_id or '*'}+{self.coursedir.assignment_id}+*"
        records = [self._path_to_record(path) for path in glob.glob(os.path.join(self.inbound_path, pattern))]
        latest: dict[str, dict] = {}
        for record in sorted(filter(self._handed_in_by_its_student, records), key=lambda r: r["timestamp"]):
            if not (self.before_duedate and self.duedate and record["timestamp"] > self.duedate):
                latest[record["username"]] = record
            latest.setdefault(record["username"], record)
        self.src_records = list(latest.values())

    def _handed_in_by_its_student(self, record: dict) -> bool:
        path = os.path.join(self.inbound_path, record["filename"])
        problem = _not_genuine(path, record["username"])
        if problem:
            self.log.warning("Skipped %s: %s", path, problem)
        return not problem

    def do_copy(self, src: str, dest: str) -> None:
        ignore = shutil.ignore_patterns(*self.coursedir.ignore)
        shutil.copytree(src, dest, symlinks=True, ignore=ignore)  # A link stays a link: checked next.
        problem = _not_genuine(dest, None)
        if problem:  # Changed between the check and the copy.
            shutil.rmtree(dest)
            self.fail(f"{src}: {problem}")
        named = self.coursedir.get_existing_timestamp(dest) or datetime.datetime.min
        changed = datetime.datetime.fromtimestamp(_last_change(src), datetime.timezone.utc).replace(
            tzinfo=None
        )
        with open(os.path.join(dest, "timestamp.txt"), "w") as file:
            file.write(f"{max(named, changed):%Y-%m-%d %H:%M:%S.%f} UTC")


def _not_genuine(path: str, student: str | None) -> str | None:
    """Why ``path`` is not a submission ``student`` handed in (None: it is)."""
    folder = os.lstat(path)
    if not stat.S_ISDIR(folder.st_mode):
        return "not a folder"
    if student is not None:
        try:
            expected = pwd.getpwnam(student).pw_uid
        except KeyError:
            return f"no account {student!r}"
        if folder.st_uid != expected:
            return f"named after {student} but made by uid {folder.st_uid}"
    for root, folders, files in os.walk(path):
        for name in folders + files:
            mode = os.lstat(os.path.join(root, name)).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                return f"{os.path.join(root, name)} is a link or a special file"
    return None


def _last_change(path: str) -> float:
    """The latest status change (ctime, which its owner cannot set) of ``path`` or anything in it."""
    times = [os.lstat(path).st_ctime]
    for root, folders, files in os.walk(path):
        times += [os.lstat(os.path.join(root, name)).st_ctime for name in folders + files]
    return max(times)
