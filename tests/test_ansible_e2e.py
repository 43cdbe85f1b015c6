"""End to end, no mocks: the playbook of ``torch-wizard export ansible`` run by real ansible-core
against this machine (``-c local``) as a lab of two hosts: ``good`` gets torch 2.13.0 CPU from
the local index on 127.0.0.1 (torch-wizard itself installed from a wheel of this checkout with
no index), ``broken`` has a venv path that is a file and must fail with torch-wizard's one-line
message while ``good`` goes on. Run twice: the second run changes nothing on ``good``. Then
``torch-wizard report`` over the fetched reports."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.httpserver import serve_directory
from tests.support.runplan import PY
from tests.support.torchindex import build_index, clean_pip_env, supported_here

REPO = Path(__file__).resolve().parent.parent
ANSIBLE_PLAYBOOK = shutil.which("ansible-playbook", path=str(REPO / ".venv" / "bin"))

pytestmark = pytest.mark.slow


def recap(output: str) -> dict[str, dict[str, int]]:
    """host -> {ok, changed, failed, ...} from ansible's PLAY RECAP."""
    out: dict[str, dict[str, int]] = {}
    text = output.split("PLAY RECAP", 1)[-1]
    for host, counts in re.findall(r"^(\S+)\s+:\s+(.*)$", text, re.M):
        out[host] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", counts)}
    return out


def recap_block(output: str) -> str:
    return "PLAY RECAP" + output.split("PLAY RECAP", 1)[-1].rstrip()


@pytest.fixture(scope="module")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, object]]:
    from tests.support import labwheels, torchindex

    if supported_here():
        pytest.skip(supported_here())
    if ANSIBLE_PLAYBOOK is None:
        pytest.skip("ansible-core is not installed in .venv (pip install -e '.[dev]')")
    root = build_index()
    if root is None:
        pytest.skip(f"local torch index unavailable: {torchindex.last_error}")
    tmp = tmp_path_factory.mktemp("lab")
    tools = labwheels.tool_wheels(tmp / "dist")
    if tools is None:
        pytest.skip(f"torch-wizard's own wheels unavailable: {labwheels.last_error}")
    wheel, links = tools
    not_a_venv = tmp / "not-a-venv"
    not_a_venv.write_text("a file where the broken host's venv should go\n")
    env = clean_pip_env(cache=tmp / "cache")
    env.update(
        XDG_STATE_HOME=str(tmp / "state"),
        XDG_CONFIG_HOME=str(tmp / "config"),
        ANSIBLE_HOME=str(tmp / "ansible-home"),
        ANSIBLE_LOCAL_TEMP=str(tmp / "ansible-tmp"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_RETRY_FILES_ENABLED="0",
        LC_ALL="C.UTF-8",  # ansible-core refuses a locale whose encoding is not UTF-8
    )
    with serve_directory(root) as url:
        answers = tmp / "lab.toml"
        answers.write_text(
            '# one answers file for the whole lab\ntorch = "2.13.0"\nbackend = "auto"\n'
            f'packages = ["torch"]\nindex-base = "{url}/whl"\n'
        )
        site = tmp / "site.yml"
        made = subprocess.run(
            [PY, "-m", "torch_wizard", "export", "ansible", "--config", str(answers),
             "--venv", str(tmp / "torch"), "-o", str(site)],
            capture_output=True, text=True, env=env, cwd=tmp, timeout=60, check=False,
        )  # fmt: skip
        assert made.returncode == 0, made.stderr
        py = sys.executable
        (tmp / "inventory").write_text(
            "[lab]\n"
            f"good ansible_connection=local ansible_python_interpreter={py}\n"
            f"broken ansible_connection=local ansible_python_interpreter={py} "
            f"torch_wizard_venv={not_a_venv}\n"
        )
        extra = {
            "torch_wizard_home": str(tmp / "home"),
            "torch_wizard_package": str(wheel),
            "torch_wizard_pip_args": ["--no-index", "--find-links", str(links)],
            "torch_wizard_python": getattr(sys, "_base_executable", sys.executable),
            "torch_wizard_env": {k: env[k] for k in ("XDG_STATE_HOME", "XDG_CONFIG_HOME")},
        }
        (tmp / "vars.json").write_text(json.dumps(extra))

        def play() -> subprocess.CompletedProcess[str]:
            # --forks 1: both "hosts" are this machine and share torch_wizard_home
            return subprocess.run(
                [ANSIBLE_PLAYBOOK, "-i", str(tmp / "inventory"), str(site), "-c", "local",
                 "--forks", "1", "-e", f"@{tmp / 'vars.json'}"],
                capture_output=True, text=True, env=env, cwd=tmp, timeout=540, check=False,
            )  # fmt: skip

        first = play()
        second = play()
    report = subprocess.run(
        [PY, "-m", "torch_wizard", "report", str(tmp / "reports")],
        capture_output=True, text=True, env=env, cwd=tmp, timeout=60, check=False,
    )  # fmt: skip
    report_json = subprocess.run(
        [PY, "-m", "torch_wizard", "report", str(tmp / "reports"), "--json"],
        capture_output=True, text=True, env=env, cwd=tmp, timeout=60, check=False,
    )  # fmt: skip
    print("\n" + answers.read_text() + "\n" + recap_block(first.stdout) + "\n\n")
    print(recap_block(second.stdout) + "\n\n" + report.stdout)
    yield {
        "tmp": tmp,
        "first": first,
        "second": second,
        "report": report,
        "report_json": report_json,
        "not_a_venv": not_a_venv,
    }


def test_first_run_installs_on_the_good_host_and_fails_the_broken_one(
    lab: dict[str, object],
) -> None:
    first = lab["first"]
    assert isinstance(first, subprocess.CompletedProcess)
    out = first.stdout + first.stderr
    counts = recap(first.stdout)
    assert counts["good"]["failed"] == 0 and counts["good"]["changed"] > 0, out[-4000:]
    assert counts["broken"]["failed"] == 1, out[-4000:]
    assert first.returncode == 2  # ansible's "a host failed"
    # the broken host stops with torch-wizard's own line, as the CLI prints it
    fatal = [line for line in out.splitlines() if line.startswith("fatal: [broken]")]
    assert fatal and f"the venv path {lab['not_a_venv']} is a file" in fatal[0], out[-3000:]
    assert "Traceback" not in fatal[0]


def test_second_run_changes_nothing_on_the_good_host(lab: dict[str, object]) -> None:
    second = lab["second"]
    assert isinstance(second, subprocess.CompletedProcess)
    counts = recap(second.stdout)
    assert counts["good"]["changed"] == 0, second.stdout[-4000:]
    assert counts["good"]["failed"] == 0 and counts["broken"]["failed"] == 1
    # the install task was skipped: the venv already fits
    assert re.search(
        r"TASK \[Install PyTorch[^\n]*\n(?:[^\n]*\n)*?skipping: \[good\]", second.stdout
    )


def test_reports_are_fetched_and_checked(lab: dict[str, object]) -> None:
    tmp = lab["tmp"]
    assert isinstance(tmp, Path)
    good = tmp / "reports" / "good"
    receipt = json.loads((good / "receipt.json").read_text())
    doctor = json.loads((good / "doctor.json").read_text())
    assert receipt["outcome"] == "ok" and receipt["torch"] == "2.13.0+cpu"
    assert receipt["plan"]["choice"]["backend"] == "cpu"  # "auto", resolved on the host
    assert receipt["plan"]["choice"]["venv"] == str(tmp / "torch")
    assert doctor["problems"] == [] and doctor["torch"] == "2.13.0+cpu" and doctor["gflops"] > 0
    assert (tmp / "torch" / "bin" / "python").is_file()
    answers = (tmp / "home" / "answers.toml").read_text()
    assert 'backend = "auto"' in answers and 'torch = "2.13.0"' in answers
    broken = tmp / "reports" / "broken"
    assert "is a file" in (broken / "failure.txt").read_text()
    assert not (broken / "receipt.json").exists()


def test_report_table_over_the_lab(lab: dict[str, object]) -> None:
    report, report_json = lab["report"], lab["report_json"]
    assert isinstance(report, subprocess.CompletedProcess)
    assert isinstance(report_json, subprocess.CompletedProcess)
    assert report.returncode == 1, report.stderr  # one host is not ok
    lines = report.stdout.splitlines()
    assert lines[0].split() == ["host", "torch", "backend", "device", "GFLOP/s", "doctor"]
    row = {line.split()[0]: line for line in lines[2:-1]}
    assert re.match(r"good\s+2\.13\.0\+cpu\s+cpu\s+cpu\s+[\d,.]+\s+ok$", row["good"]), row
    assert "failed: the venv path" in row["broken"]
    assert lines[-1] == "1 of 2 hosts ok"
    rows = {r["host"]: r for r in json.loads(report_json.stdout)["hosts"]}
    assert rows["good"]["ok"] and rows["good"]["gflops"] > 0 and not rows["broken"]["ok"]
    assert os.path.isdir(lab["tmp"] / "reports")  # type: ignore[operator]
