"""Drive a classroom's JupyterHub as its users would, over HTTP: the hub's REST API, each user's
server (files, kernels over their websocket) and nbgrader's assignment list.

Used by tests/test_classroom.py and benchmarks/classroom_load.py. Course tooling.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field

import nbformat
import requests
import websocket

COURSE_ID = "fmnist"


class Hub:
    """The hub at ``url``, through the classroom's admin service token."""

    def __init__(self, url: str, admin_token: str) -> None:
        self.url = url.rstrip("/")
        self.headers = {"Authorization": f"token {admin_token}"}

    def api(self, method: str, path: str, **kwargs) -> requests.Response:
        response = requests.request(
            method, f"{self.url}/hub/api/{path}", headers=self.headers, timeout=60, **kwargs
        )
        response.raise_for_status()
        return response

    def wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                requests.get(f"{self.url}/hub/api", timeout=5).raise_for_status()
                return
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def start(self, user: str, timeout: float = 240) -> User:
        """Start ``user``'s server (as the hub's Start button does); return a session as them."""
        self.api("POST", f"users/{user}/server")
        deadline = time.monotonic() + timeout
        while not self.api("GET", f"users/{user}").json()["servers"].get("", {}).get("ready"):
            if time.monotonic() > deadline:
                raise TimeoutError(f"{user}'s server did not start within {timeout} s")
            time.sleep(0.5)
        token = self.api("POST", f"users/{user}/tokens", json={"note": "classroom test", "expires_in": 7200})
        return User(self.url, user, token.json()["token"])


@dataclass
class User:
    """One user's server, reached through the hub with their own token."""

    hub_url: str
    name: str
    token: str

    @property
    def url(self) -> str:
        return f"{self.hub_url}/user/{self.name}"

    def request(self, method: str, path: str, *, check: bool = True, **kwargs) -> requests.Response:
        headers = {"Authorization": f"token {self.token}"}
        response = requests.request(method, f"{self.url}/{path}", headers=headers, timeout=600, **kwargs)
        if check:
            response.raise_for_status()
        return response

    # nbgrader's assignment list (the Lab panel's calls)
    def assignments(self) -> list[dict]:
        return self.request("GET", "assignments", params={"course_id": COURSE_ID}).json()["value"]

    def assignment_action(self, action: str, assignment: str) -> dict:
        """``fetch``, ``submit`` or ``fetch_feedback``; nbgrader's answer (a list, or an error)."""
        data = {"course_id": COURSE_ID, "assignment_id": assignment}
        answer = self.request("POST", f"assignments/{action}", data=data).json()
        if not answer.get("success"):
            raise RuntimeError(f"{self.name}: nbgrader's {action} failed:\n{answer.get('value')}")
        return answer["value"]

    # files
    def read_notebook(self, path: str) -> nbformat.NotebookNode:
        model = self.request("GET", f"api/contents/{path}", params={"content": 1}).json()
        return nbformat.from_dict(model["content"])

    def write_notebook(self, path: str, notebook: nbformat.NotebookNode) -> None:
        self.request("PUT", f"api/contents/{path}", json={"type": "notebook", "content": notebook})

    def read_text(self, path: str) -> str:
        model = self.request("GET", f"api/contents/{path}", params={"content": 1, "format": "text"}).json()
        return model["content"]

    def listing(self, path: str) -> list[str]:
        return [item["name"] for item in self.request("GET", f"api/contents/{path}").json()["content"]]

    def kernel(self, cwd: str = "") -> Kernel:
        """A new kernel, started in the folder ``cwd`` of the home (as opening a notebook there)."""
        session = {"path": f"{cwd}/classroom-{uuid.uuid4().hex[:8]}.ipynb".lstrip("/"), "type": "notebook"}
        session["kernel"] = {"name": "python3"}
        kernel_id = self.request("POST", "api/sessions", json=session).json()["kernel"]["id"]
        return Kernel(self, kernel_id)


@dataclass
class Result:
    """What one execution gave: its printed text, its error (``ename: evalue``), whether the kernel died."""

    stdout: str = ""
    error: str | None = None
    died: bool = False
    outputs: list = field(default_factory=list)


class Kernel:
    """A kernel of a user's server, over its websocket (Jupyter's messaging protocol)."""

    def __init__(self, user: User, kernel_id: str) -> None:
        self.user, self.id, self.session = user, kernel_id, uuid.uuid4().hex
        url = (
            f"{user.url.replace('http', 'ws', 1)}/api/kernels/{kernel_id}/channels?session_id={self.session}"
        )
        self.socket = websocket.create_connection(
            url, header=[f"Authorization: token {user.token}"], timeout=30
        )

    def execute(self, code: str, timeout: float = 1800) -> Result:
        """Run ``code``; wait for its reply, or for the kernel's death."""
        msg_id = uuid.uuid4().hex
        header = {"msg_id": msg_id, "msg_type": "execute_request", "username": self.user.name}
        header |= {"session": self.session, "date": "", "version": "5.3"}
        content = {"code": code, "silent": False, "store_history": True, "user_expressions": {}}
        content |= {"allow_stdin": False, "stop_on_error": True}
        message = {
            "header": header,
            "parent_header": {},
            "metadata": {},
            "content": content,
            "channel": "shell",
        }
        self.socket.send(json.dumps(message))
        result, deadline, pending = Result(), time.monotonic() + timeout, {"execute_reply", "idle"}
        while time.monotonic() < deadline:
            try:
                reply = json.loads(self.socket.recv())
            except websocket.WebSocketTimeoutException:
                continue
            kind, content = reply["msg_type"], reply["content"]
            if kind == "status" and content.get("execution_state") in ("restarting", "dead"):
                result.died = True
                return result
            if reply.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            if kind == "stream" and content["name"] == "stdout":
                result.stdout += content["text"]
            elif kind == "error":
                result.error = f"{content['ename']}: {content['evalue']}"
            elif kind in ("execute_result", "display_data"):
                result.outputs.append(content)
            elif kind == "execute_reply" or (kind == "status" and content["execution_state"] == "idle"):
                pending.discard("execute_reply" if kind == "execute_reply" else "idle")
                if not pending:  # The reply (shell) and the last output (iopub) both arrived.
                    return result
        raise TimeoutError(f"no reply within {timeout} s to:\n{code[:200]}")

    def close(self) -> None:
        self.socket.close()
        self.user.request("DELETE", f"api/kernels/{self.id}", check=False)
