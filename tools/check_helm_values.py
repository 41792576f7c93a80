"""Check the Zero to JupyterHub values (docs/classroom/z2jh-values.yaml) without a cluster.

    python tools/check_helm_values.py [VALUES] [--chart DIR]     # in the repository root

With ``--chart DIR``, an unpacked chart (``helm pull jupyterhub/jupyterhub --version 4.X.Y
--untar``), it does what Helm does before rendering anything: it merges VALUES over the chart's
values.yaml (maps key by key, lists and scalars replaced) and validates the result against the
chart's values.schema.json. Without it, VALUES is validated against :data:`SCHEMA_EXCERPT`, the
part of the chart's schema that covers the keys the course's file sets, copied from the chart's
source, with the chart's ``additionalProperties: false`` kept: a misspelt key fails here as it
would in Helm. The free-form ``hub.config`` (JupyterHub's own settings) is checked by neither.
Then the course's own rules: the exchange volume is mounted where nbgrader's Exchange.root
says, the course id and the Formgrader settings are those of the one-machine classroom
(tools/classroom.py), limits are not below guarantees, the Python file parses.
Exit status 1 on any problem. Needs PyYAML and jsonschema (JupyterLab installs both).
Course tooling: not part of the package students install. docs/classroom.md explains it.
"""

from __future__ import annotations

import argparse
import ast
import json
import sys
from pathlib import Path

import jsonschema
import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from tools.classroom import COURSE_ID, INSTRUCTOR_LAB_EXTENSIONS, INSTRUCTOR_SERVER_EXTENSIONS, parse_size  # noqa: E402

VALUES = ROOT / "docs" / "classroom" / "z2jh-values.yaml"

_NULLABLE_INT = {"type": ["integer", "null"]}
_IMAGE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["name", "tag"],
    "properties": {
        "name": {"type": "string"},
        "tag": {"type": "string"},
        "pullPolicy": {"enum": [None, "", "IfNotPresent", "Always", "Never"]},
        "pullSecrets": {"type": "array"},
    },
}
_EXTRA_FILE = {
    "type": "object",
    "additionalProperties": False,
    "required": ["mountPath"],
    "oneOf": [{"required": ["data"]}, {"required": ["stringData"]}, {"required": ["binaryData"]}],
    "properties": {
        "mountPath": {"type": "string"},
        "data": {"type": "object", "additionalProperties": True},
        "stringData": {"type": "string"},
        "binaryData": {"type": "string"},
        "mode": {"type": "number"},
    },
}
#: From jupyterhub/zero-to-jupyterhub-k8s, jupyterhub/values.schema.yaml (commit 02dd73df, a 3.x
#: or later chart: it has 3.0.0's notes), the properties used here only. The chart's own
#: ``required`` lists are left out: the chart's defaults fill them.
SCHEMA_EXCERPT = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "hub": {
            "type": "object",
            "additionalProperties": False,
            "properties": {"config": {"type": "object", "additionalProperties": True}},
        },
        "singleuser": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "image": _IMAGE,
                "defaultUrl": {"type": ["string", "null"]},
                "cpu": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "limit": {"type": ["number", "null"]},
                        "guarantee": {"type": ["number", "null"]},
                    },
                },
                "memory": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "limit": {"type": ["number", "string", "null"]},
                        "guarantee": {"type": ["number", "string", "null"]},
                    },
                },
                "extraEnv": {"type": ["object", "array"], "additionalProperties": True},
                "extraFiles": {
                    "type": "object",
                    "additionalProperties": False,
                    "patternProperties": {".*": _EXTRA_FILE},
                },
                "storage": {
                    "type": "object",
                    "additionalProperties": False,
                    "properties": {
                        "type": {"enum": ["dynamic", "static", "none"]},
                        "homeMountPath": {"type": "string"},
                        "capacity": {"type": ["string", "null"]},
                        "extraVolumes": {"type": "array"},
                        "extraVolumeMounts": {"type": "array"},
                    },
                },
                "uid": _NULLABLE_INT,
                "fsGid": _NULLABLE_INT,
            },
        },
        "cull": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "enabled": {"type": "boolean"},
                "users": {"type": ["boolean", "null"]},
                "adminUsers": {"type": ["boolean", "null"]},
                "removeNamedServers": {"type": ["boolean", "null"]},
                "timeout": _NULLABLE_INT,
                "every": _NULLABLE_INT,
                "concurrency": _NULLABLE_INT,
                "maxAge": _NULLABLE_INT,
            },
        },
    },
}


def helm_merge(defaults: object, values: object) -> object:
    """``values`` over ``defaults`` as Helm merges them: maps key by key, anything else replaced."""
    if not (isinstance(defaults, dict) and isinstance(values, dict)):
        return values
    merged = dict(defaults)
    for key, value in values.items():
        if value is None:
            merged.pop(key, None)  # Helm: null deletes a default.
        else:
            merged[key] = helm_merge(defaults.get(key), value)
    return merged


def schema_problems(values: dict, chart: Path | None) -> list[str]:
    if chart is None:
        schema, document = SCHEMA_EXCERPT, values
    else:
        schema = json.loads((chart / "values.schema.json").read_text())
        document = helm_merge(yaml.safe_load((chart / "values.yaml").read_text()), values)
    validator = jsonschema.Draft7Validator(schema)
    return [
        f"{'.'.join(map(str, error.absolute_path)) or '(top)'}: {error.message}"
        for error in sorted(validator.iter_errors(document), key=lambda error: list(map(str, error.path)))
    ]


def course_problems(values: dict) -> list[str]:
    """What the schema cannot know: the settings agree with each other and with the classroom's."""
    problems = []
    single = values.get("singleuser", {})
    files = {entry["mountPath"]: entry for entry in single.get("extraFiles", {}).values()}
    config = files.get("/etc/jupyter/nbgrader_config.py", {}).get("stringData")
    if config is None:
        return ["singleuser.extraFiles: no /etc/jupyter/nbgrader_config.py"]
    settings = {}
    for node in ast.walk(ast.parse(config)):
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Attribute):
            target = node.targets[0]
            if isinstance(target.value, ast.Attribute) and isinstance(node.value, ast.Constant):
                settings[f"{target.value.attr}.{target.attr}"] = node.value.value
    if settings.get("CourseDirectory.course_id") != COURSE_ID:
        problems.append(f"nbgrader_config.py: CourseDirectory.course_id is not {COURSE_ID!r}")
    mounts = [mount["mountPath"] for mount in single.get("storage", {}).get("extraVolumeMounts", [])]
    if settings.get("Exchange.root") not in mounts:
        root = settings.get("Exchange.root")
        problems.append(f"nbgrader_config.py: Exchange.root {root!r} is not a mounted volume {mounts}")
    server = lab = None
    for path, entry in files.items():
        data = entry.get("data", {})
        if path.endswith("/jupyter_server_config.d/zz-fmnist-instructor-only.json"):
            server = data.get("ServerApp", {}).get("jpserver_extensions", {})
        if path.endswith("/labconfig/page_config.json"):
            lab = data.get("disabledExtensions", {})
    if server != {name: False for name in INSTRUCTOR_SERVER_EXTENSIONS}:
        problems.append(f"zz-fmnist-instructor-only.json: not exactly {INSTRUCTOR_SERVER_EXTENSIONS} off")
    if lab != {name: True for name in INSTRUCTOR_LAB_EXTENSIONS}:
        problems.append(f"page_config.json: not exactly {INSTRUCTOR_LAB_EXTENSIONS} disabled")
    for resource, size in (("memory", parse_size), ("cpu", float)):
        limits = single.get(resource, {})
        limit, guarantee = limits.get("limit"), limits.get("guarantee")
        if None not in (limit, guarantee) and size(limit) < size(guarantee):
            problems.append(f"singleuser.{resource}: limit below guarantee")
    if str(single.get("extraEnv", {}).get("FMNIST_QUICK", "0")) not in ("0", "1"):
        problems.append("singleuser.extraEnv.FMNIST_QUICK: not 0 or 1")
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python tools/check_helm_values.py", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("values", nargs="?", type=Path, default=VALUES)
    parser.add_argument("--chart", type=Path, help="an unpacked jupyterhub chart (helm pull --untar)")
    arguments = parser.parse_args(argv)
    values = yaml.safe_load(arguments.values.read_text())
    against = f"the chart's schema ({arguments.chart})" if arguments.chart else "the excerpt (no chart given)"
    problems = schema_problems(values, arguments.chart) + course_problems(values)
    for problem in problems:
        print(f"PROBLEM {problem}")
    print(f"{arguments.values}: {len(problems)} problem(s); keys and types checked against {against}.")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
