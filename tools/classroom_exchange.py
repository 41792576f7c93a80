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
link to the instructor's solutions would otherwise be collected as the student's work), or whose
name nbgrader cannot read; copies through file descriptors opened without following links and
only what the student owns (the folder may change between the check and the copy); and records
as the hand-in time the later of the name's time and the last change of anything copied (ctime,
which no student can set back). A folder it cannot copy is skipped, not the whole collect.

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

from nbgrader.exchange.abc.exchange import ExchangeError
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
        """nbgrader's choice of each student's latest submission, among those that are theirs."""
        self.course_path = os.path.join(self.root, self.coursedir.course_id)
        self.inbound_path = os.path.join(self.course_path, "inbound")
        if not self.coursedir.course_id or not os.access(self.inbound_path, os.R_OK | os.X_OK):
            self.fail(f"No course to collect from, or not yours: {self.inbound_path}")
        pattern = os.path.join(
            self.inbound_path, f"{self.coursedir.student_id or '*'}+{self.coursedir.assignment_id}+*"
        )
        records = sorted(filter(None, map(self._record, glob.glob(pattern))), key=lambda r: r["timestamp"])
        on_time = [
            r for r in records if not (self.before_duedate and self.duedate and r["timestamp"] > self.duedate)
        ]
        latest = {record["username"]: record for record in records}
        latest |= {record["username"]: record for record in on_time}
        self.src_records = list(latest.values())
        self.handed_in = {os.path.join(self.inbound_path, r["filename"]): r for r in self.src_records}

    def _record(self, path: str) -> dict | None:
        """nbgrader's record of a submission folder, if its student made it and it holds only files."""
        try:
            record = self._path_to_record(path)
            problem = _not_genuine(path, record["username"])
        except (ExchangeError, ValueError, OverflowError, OSError) as error:  # A name nbgrader cannot read.
            record, problem = None, f"not a submission ({error})"
        if problem:
            self.log.warning("Skipped %s: %s", path, problem)
            return None
        record["uid"] = pwd.getpwnam(record["username"]).pw_uid
        return record

    def do_copy(self, src: str, dest: str) -> None:
        """Copy what the student owns, never through a link (the folder may have changed since the
        check), and write the hand-in time: the later of the name's and the last change's."""
        record = self.handed_in[src]
        try:
            changed = copy_owned(src, dest, record["uid"], shutil.ignore_patterns(*self.coursedir.ignore))
            changed = datetime.datetime.fromtimestamp(changed, datetime.timezone.utc).replace(tzinfo=None)
            with open(os.path.join(dest, "timestamp.txt"), "w") as file:
                file.write(f"{max(record['timestamp'], changed):%Y-%m-%d %H:%M:%S.%f} UTC")
        except (OSError, ValueError) as error:  # One student's folder, not the whole class's collect.
            shutil.rmtree(dest, ignore_errors=True)
            self.log.error("Skipped %s: %s", src, error)


def _not_genuine(path: str, student: str) -> str | None:
    """Why ``path`` is not a submission ``student`` handed in (None: it is)."""
    folder = os.lstat(path)
    if not stat.S_ISDIR(folder.st_mode):
        return "not a folder"
    try:
        expected = pwd.getpwnam(student).pw_uid
    except KeyError:
        return f"no account {student!r}"
    if folder.st_uid != expected:
        return f"named after {student} but made by uid {folder.st_uid}"
    for root, folders, files in os.walk(path, onerror=_raise):
        for name in folders + files:
            mode = os.lstat(os.path.join(root, name)).st_mode
            if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                return f"{os.path.join(root, name)} is a link or a special file"
    return None


def _raise(error: OSError) -> None:
    raise error


def copy_owned(src: str, dest: str, uid: int, ignore=None, *, dir_fd: int | None = None) -> float:
    """Copy the folder ``src`` to ``dest`` through file descriptors opened without following links,
    taking only folders and files that ``uid`` owns (ValueError otherwise).

    Returns:
        The latest status change (ctime, which no owner can set back) of anything copied.
    """
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK  # A link fails to open; a FIFO does not block.
    source = os.open(src, flags, dir_fd=dir_fd)
    try:
        info = os.fstat(source)
        if info.st_uid != uid or not (stat.S_ISDIR(info.st_mode) or stat.S_ISREG(info.st_mode)):
            raise ValueError(f"{src} is not a folder or file of uid {uid}")
        if stat.S_ISREG(info.st_mode):
            with os.fdopen(os.dup(source), "rb") as data, open(dest, "xb") as copy:
                shutil.copyfileobj(data, copy)
            return info.st_ctime
        os.mkdir(dest)
        names = os.listdir(source)
        names = [name for name in names if name not in (ignore(src, names) if ignore else set())]
        times = [copy_owned(name, os.path.join(dest, name), uid, ignore, dir_fd=source) for name in names]
        return max([info.st_ctime, *times])
    finally:
        os.close(source)
