"""Screenshots of a running classroom in Chromium, as its users see it (docs/classroom/).

    sudo make classroom ...                       # in one terminal: the hub on PORT
    sudo python -m tools.classroom_screenshots --prefix PREFIX --url http://127.0.0.1:PORT

Logs in through the hub's login page with the generated passwords: the instructor releases the
assignment (nbgrader in their account) and opens the Formgrader; the first student opens
Nbgrader > Assignment List in JupyterLab, fetches the assignment and submits it. One screenshot
at each step. Course tooling, run by hand (as root: it reads the passwords file), on a demo
classroom only: it releases the assignment again (--force) and submits as the first student.
"""

from __future__ import annotations

import argparse
import json
import os
import pwd
import subprocess
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tools.classroom import RUNUSER, Layout

OUT = Path(__file__).resolve().parent.parent / "docs" / "classroom"


def log_in(page: Page, url: str, name: str, password: str) -> None:
    page.goto(f"{url}/hub/login")
    page.fill("#username_input", name)
    page.fill("#password_input", password)
    page.click("#login_submit")
    page.wait_for_url(f"**/user/{name}/**", timeout=180_000)


def release(layout: Layout, instructor: str) -> None:
    """What the instructor types in a terminal of their server."""
    home = pwd.getpwnam(instructor).pw_dir
    environment = {"HOME": home, "PATH": f"{layout.bin}:/usr/bin:/bin"}
    for command in (
        ["generate_assignment", "fmnist", "--force"],
        ["release_assignment", "fmnist", "--force"],
    ):
        subprocess.run(
            [RUNUSER, "-u", instructor, "--", str(layout.bin / "nbgrader"), *command],
            cwd=f"{home}/course", env=environment, check=True, capture_output=True,
        )  # fmt: skip


def assignment_list(page: Page, url: str, name: str) -> None:
    page.goto(f"{url}/user/{name}/lab")
    page.get_by_text("Nbgrader", exact=True).click(timeout=120_000)
    page.get_by_text("Assignment List", exact=True).click()
    page.get_by_text("Released assignments").wait_for()
    page.locator(".jp-DirListing-item", has_text="notebooks").wait_for(timeout=60_000)  # The handouts.


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--prefix", default="/srv/fmnist-classroom")
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    arguments = parser.parse_args()
    layout = Layout(arguments.prefix)
    settings = json.loads(layout.settings.read_text())
    passwords = dict(line.split(" ", 1) for line in layout.passwords.read_text().splitlines() if line)
    instructor, student = settings["instructor"], settings["students"][0]
    release(layout, instructor)
    OUT.mkdir(parents=True, exist_ok=True)
    chromium = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        page = browser.new_page(viewport={"width": 1280, "height": 760})
        page.goto(f"{arguments.url}/hub/login")
        page.screenshot(path=OUT / "1_login.png")
        log_in(page, arguments.url, instructor, passwords[instructor])
        page.goto(f"{arguments.url}/user/{instructor}/formgrader/manage_assignments")
        page.locator("td", has_text="fmnist").first.wait_for(timeout=60_000)
        page.wait_for_timeout(1000)
        page.screenshot(path=OUT / "2_instructor_formgrader.png")
        page = browser.new_context(viewport={"width": 1280, "height": 760}).new_page()
        log_in(page, arguments.url, student, passwords[student])
        assignment_list(page, arguments.url, student)
        page.get_by_role("button", name="Fetch").wait_for(timeout=60_000)
        page.screenshot(path=OUT / "3_student_assignment_list_released.png")
        page.get_by_role("button", name="Fetch").click()
        page.get_by_role("button", name="Submit").wait_for(timeout=60_000)
        page.get_by_role("button", name="Submit").click()
        page.get_by_text("There are no submitted assignments.").wait_for(state="hidden")
        page.wait_for_timeout(1000)
        page.screenshot(path=OUT / "4_student_assignment_list_submitted.png")
        browser.close()
    print(f"Screenshots in {OUT}")


if __name__ == "__main__":
    main()
