"""The CI and deploy workflows shipped in examples/ci: valid YAML, the steps a user
needs, in the right order, and every expandcontract command in them parses under
the real command line (an option renamed in the CLI fails here)."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import click
import pytest
import yaml

from expandcontract.cli import cli
from expandcontract.phases import PHASES

CI = Path(__file__).resolve().parents[1] / "examples" / "ci"
GITHUB_PR = CI / "github" / "migrations.yml"
GITHUB_DEPLOY = CI / "github" / "deploy.yml"
GITLAB = CI / "gitlab" / ".gitlab-ci.yml"


def commands(lines: list[str]) -> list[list[str]]:
    """The expandcontract invocations in shell lines, placeholders filled in."""
    found = []
    for line in lines:
        line = re.sub(r"\$\{\{[^}]*\}\}", "X", line)  # GitHub expressions
        line = line.split(">", 1)[0]  # a redirect of the report
        line = line.split(" #", 1)[0]
        for part in line.split("&&"):
            words = shlex.split(part)
            if words and words[0] == "expandcontract":
                found.append(words[1:])
    return found


def parse(args: list[str]) -> click.Context:
    """Parse as the CLI would, without running anything."""
    name, rest = args[0], args[1:]
    command = cli.get_command(click.Context(cli), name)
    assert command is not None, f"no command {name}"
    return command.make_context(name, rest)


def github_steps(workflow: dict, job: str) -> list[str]:
    return [step.get("run", "") for step in workflow["jobs"][job]["steps"]]


def gitlab_script(pipeline: dict, job: str) -> list[str]:
    return list(pipeline[job]["script"])


@pytest.mark.parametrize("path", [GITHUB_PR, GITHUB_DEPLOY, GITLAB], ids=lambda p: p.name)
def test_every_command_parses(path: Path) -> None:
    data = yaml.safe_load(path.read_text())
    lines = []

    def walk(node) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if key in ("run", "script", "before_script") and isinstance(value, str):
                    lines.append(value.replace("\n", " "))
                elif key in ("script", "before_script") and isinstance(value, list):
                    lines.extend(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(data)
    found = commands(lines)
    assert found, f"{path.name} runs no expandcontract command"
    for args in found:
        parse(args)


def test_pull_request_workflow_lints_and_verifies_the_change() -> None:
    workflow = yaml.safe_load(GITHUB_PR.read_text())
    lint = commands(github_steps(workflow, "lint"))
    assert [a[0] for a in lint] == ["lint"]
    options = parse(lint[0]).params
    assert options["output_format"] == "github" and options["changed_since"]
    verify = commands([s.replace("\n", " ") for s in github_steps(workflow, "verify")])
    options = parse(verify[0]).params
    assert options["changed_since"] and options["database_url"]
    assert options["output_format"] == "github"
    assert "postgres" in workflow["jobs"]["verify"]["services"]
    checkout = workflow["jobs"]["lint"]["steps"][0]
    assert checkout["with"]["fetch-depth"] == 0  # the base branch must be there to diff


def _phase_steps(runs: list[list[str]]) -> list[tuple[str, str]]:
    return [(a[0], a[1]) for a in runs if a[0] in ("check", "upgrade")]


def test_deploy_workflow_runs_each_phase_behind_its_gate_in_order() -> None:
    workflow = yaml.safe_load(GITHUB_DEPLOY.read_text())
    jobs = workflow["jobs"]
    order, job = [], "expand"
    while job:  # follow `needs` from the first job
        order.append(job)
        job = next((j for j, spec in jobs.items() if spec.get("needs") == job), None)
    assert order == ["expand", "rollout", "migrate", "switch", "contract"]
    for phase in PHASES:
        steps = _phase_steps(commands(github_steps(workflow, phase)))
        assert steps == [("check", phase), ("upgrade", phase)], steps
    contract = commands(github_steps(workflow, "contract"))
    assert parse(contract[0]).params["window"]  # the rollback window gates contract
    assert not commands(github_steps(workflow, "rollout"))  # the app's own deploy step


def test_gitlab_pipeline_has_the_checks_and_the_phases() -> None:
    pipeline = yaml.safe_load(GITLAB.read_text())
    stages = pipeline["stages"]
    assert stages == ["check", "expand", "rollout", "migrate", "switch", "contract"]
    lint = commands(gitlab_script(pipeline, "migrations-lint"))
    assert parse(lint[0]).params["output_format"] == "gitlab"
    assert pipeline["migrations-lint"]["artifacts"]["reports"]["codequality"]
    verify = commands(gitlab_script(pipeline, "migrations-verify"))
    assert parse(verify[0]).params["changed_since"]
    for phase in PHASES:
        assert pipeline[phase]["stage"] == phase
        steps = _phase_steps(commands(gitlab_script(pipeline, phase)))
        assert steps == [("check", phase), ("upgrade", phase)], steps
    assert pipeline["contract"]["rules"][0]["when"] == "manual"
    assert parse(commands(gitlab_script(pipeline, "contract"))[0]).params["window"]
