"""The wizard driven with Pilot on fixture machines: choose, go back, change, preview, run, cancel,
fail. Real planner, real runner (fast ``python -c`` steps), real files."""

from __future__ import annotations

import json
import os
import threading
import uuid
from pathlib import Path

import pytest
from textual.pilot import Pilot
from textual.widgets import Input, LoadingIndicator, RadioButton, RadioSet, Static

from tests.support.runplan import processes_with_marker
from tests.support.ui import (
    FAIL_STEPS,
    OK_STEPS,
    SNAP_VENV,
    app_for,
    blocking_steps,
    fixture_machine,
    on_screen,
    past_machine,
    planner_with,
    rehearsal_planner,
    runner_in,
    running_app,
    sleeping_steps,
    text_of,
    wait_for,
)
from torch_wizard.errors import UsageError
from torch_wizard.machine.model import Machine
from torch_wizard.plan import Choices, make_plan
from torch_wizard.plan.render import command_line, render
from torch_wizard.ui.app import WizardApp
from torch_wizard.ui.screens.choices import ChoicesScreen
from torch_wizard.ui.screens.done import DoneScreen
from torch_wizard.ui.screens.machine import MachineScreen
from torch_wizard.ui.screens.preview import PreviewScreen
from torch_wizard.ui.screens.run import RunScreen
from torch_wizard.ui.screens.save import SaveScreen
from torch_wizard.ui.screens.source import SourceScreen

SIZE = (100, 32)


# --------------------------------------------------------------------------------------------------
# Enter only: every recommendation accepted, a correct preview


@pytest.mark.parametrize(
    ("name", "backend"),
    [("cpu-server", "cpu"), ("rtx4090-driver550", "cu12"), ("gtx1080-driver580", "cu126")],
)
async def test_pressing_only_enter_reaches_the_recommended_preview(
    tmp_path: Path, name: str, backend: str
) -> None:
    app = app_for(name, tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await past_machine(pilot)
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        expected = make_plan(fixture_machine(name), Choices(venv=str(tmp_path / "venv")))
        assert expected.choice.backend.startswith(backend)
        assert app.state.plan == expected
        shown = [
            text_of(w)
            for w in app.screen.query(".command").results(Static)
            if w.id != "verify-folded"  # the verify script folded; #verify-full has it whole
        ]
        assert shown == [command_line(s) for s in expected.steps]
        install = expected.step("install-torch")
        assert any("--index-url" in line and "torch==" in line for line in shown)
        assert command_line(install) in shown
        # dry-run: no Run action, Quit instead
        assert not app.screen.query("#run")
        await pilot.press("q")
    assert app.return_code == 0
    assert not (tmp_path / "venv").exists()


async def test_preview_shows_brackets_and_env_unmangled(tmp_path: Path) -> None:
    """Markup is off: a `[cu126]` in the summary and NAME=value prefixes show as they are."""
    app = app_for("cpu-server", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await past_machine(pilot)
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        summary = text_of(app.screen.query_one("#plan-summary", Static))
        assert "[cpu]" in summary


# --------------------------------------------------------------------------------------------------
# Choices: disabled options with why, changes re-run explore, Back keeps the choices


async def test_nvidia_choices_offer_every_backend_and_disable_what_cannot_run(
    tmp_path: Path,
) -> None:
    app = app_for("rtx4090-driver550", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await past_machine(pilot)
        screen = app.screen
        assert isinstance(screen, ChoicesScreen)
        buttons = {b.name: b for b in screen.query_one("#set-backend").query(RadioButton)}
        options = {o.value: o for o in screen.options.backends}
        assert set(buttons) == set(options)
        for value, opt in options.items():
            assert buttons[value].disabled == (not opt.available), value
        cu13 = [v for v in buttons if v.startswith("cu13")]
        assert cu13 and all(buttons[v].disabled for v in cu13)
        why = text_of(screen.query_one("#why-text", Static))
        assert "driver 580" in why  # the reason CUDA 13 is out is on screen
        recommended = next(o for o in options.values() if o.recommended)
        assert buttons[recommended.value].value  # pressed
        assert "★" in str(buttons[recommended.value].label)


async def test_changing_a_choice_reexplores_and_back_keeps_it(tmp_path: Path) -> None:
    app = app_for("rtx4090-driver550", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await past_machine(pilot)
        screen = app.screen
        assert isinstance(screen, ChoicesScreen)
        recommended = screen.options.resolved.backend if screen.options.resolved else ""
        # pick CPU only with the keyboard: focus is on the backend list
        backend = screen.query_one("#set-backend", RadioSet)
        assert backend.has_focus
        cpu_index = [b.name for b in backend.query(RadioButton)].index("cpu")
        while backend._selected != cpu_index:
            await pilot.press("down")
        await pilot.press("space")
        await wait_for(pilot, lambda: screen.options.choices.backend == "cpu")
        assert screen.options.resolved is not None
        assert screen.options.resolved.index_url.endswith("/cpu")
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        assert app.state.plan is not None and app.state.plan.choice.backend == "cpu"
        await pilot.press("escape")
        await on_screen(pilot, ChoicesScreen)
        again = app.screen
        assert isinstance(again, ChoicesScreen) and again is not screen
        assert again.options.choices.backend == "cpu"  # prefilled
        pressed = again.query_one("#set-backend", RadioSet).pressed_button
        assert pressed is not None and pressed.name == "cpu"
        # ctrl+r: back to the recommendation
        await pilot.press("ctrl+r")
        await wait_for(pilot, lambda: again.options.resolved.backend == recommended)  # type: ignore[union-attr]
        await pilot.press("escape")
        await on_screen(pilot, MachineScreen)


async def test_clicking_an_older_torch_changes_the_plan(tmp_path: Path) -> None:
    app = app_for("cpu-server", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await past_machine(pilot)
        screen = app.screen
        assert isinstance(screen, ChoicesScreen)
        versions = [o.value for o in screen.options.versions if o.available]
        assert len(versions) >= 2 and versions == sorted(
            versions, key=lambda v: tuple(map(int, v.split("."))), reverse=True
        )
        older = versions[1]
        button = next(
            b for b in screen.query_one("#set-torch").query(RadioButton) if b.name == older
        )
        await pilot.click(button)
        await wait_for(pilot, lambda: screen.options.resolved.torch == older)  # type: ignore[union-attr]
        await pilot.click("#next")
        await on_screen(pilot, PreviewScreen)
        assert app.state.plan is not None
        assert app.state.plan.choice.packages["torch"] == older


async def test_unavailable_options_cannot_be_picked(tmp_path: Path) -> None:
    app = app_for("cpu-server", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await past_machine(pilot)
        screen = app.screen
        assert isinstance(screen, ChoicesScreen)
        backend = screen.query_one("#set-backend", RadioSet)
        disabled = [b for b in backend.query(RadioButton) if b.disabled]
        assert disabled, "a CPU-only machine cannot pick a CUDA build"
        await pilot.click(disabled[0])
        await pilot.pause()
        assert screen.options.choices.backend in ("auto", "cpu")
        # the keyboard skips them: cycling the whole list only ever lands on enabled buttons
        names = [b.name for b in backend.query(RadioButton)]
        for _ in range(len(names) + 1):
            await pilot.press("down")
            assert backend._selected is not None
            assert not list(backend.query(RadioButton))[backend._selected].disabled


async def test_venv_path_is_validated_as_typed(tmp_path: Path) -> None:
    a_file = tmp_path / "not-a-dir"
    a_file.write_text("x")
    app = app_for("cpu-server", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await past_machine(pilot)
        screen = app.screen
        venv = screen.query_one("#venv", Input)
        venv.focus()
        venv.value = str(a_file)
        await pilot.pause()
        assert "is a file" in text_of(screen.query_one("#why-text", Static))
        await pilot.press("enter")
        await pilot.pause()
        assert app.screen is screen  # refused: still on Choices
        venv.value = str(tmp_path / "fresh" / ".venv")
        await pilot.pause()
        assert screen.venv_error == ""  # type: ignore[attr-defined]
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        assert app.state.plan is not None
        assert app.state.plan.choice.venv == str(tmp_path / "fresh" / ".venv")


async def test_source_build_visits_the_source_screen(tmp_path: Path) -> None:
    app = app_for("rtx4090-driver550", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await past_machine(pilot)
        screen = app.screen
        source = next(
            b for b in screen.query_one("#set-build").query(RadioButton) if b.name == "source"
        )
        await pilot.click(source)
        await wait_for(pilot, lambda: screen.options.choices.build == "source")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await on_screen(pilot, SourceScreen)
        jobs = app.screen.query_one("#max-jobs", Input)
        jobs.value = "4"
        arch = app.screen.query_one("#arch-list", Input)
        arch.value = "8.9"
        await pilot.press("escape")  # back to Choices keeps the build choice
        await on_screen(pilot, ChoicesScreen)
        assert app.screen.options.choices.build == "source"  # type: ignore[attr-defined]
        await pilot.press("enter")
        await on_screen(pilot, SourceScreen)
        app.screen.query_one("#max-jobs", Input).value = "4"
        app.screen.query_one("#arch-list", Input).value = "8.9"
        await pilot.press("enter")
        await wait_for(
            pilot,
            lambda: (
                isinstance(app.screen, (PreviewScreen, ChoicesScreen))
                and app.state.choices.source.max_jobs == 4
            ),
        )
        assert app.state.choices.source.cuda_arch_list == "8.9"


async def test_source_profile_labels_are_whole_at_80x24(tmp_path: Path) -> None:
    """The machine screen's grid once leaked onto the source screen's profile set (same id)."""
    app = app_for("rtx4090-driver550", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await past_machine(pilot)
        screen = app.screen
        source = next(
            b for b in screen.query_one("#set-build").query(RadioButton) if b.name == "source"
        )
        await pilot.click(source)
        await wait_for(pilot, lambda: screen.options.choices.build == "source")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await on_screen(pilot, SourceScreen)
        await pilot.pause()
        shown = app.export_screenshot()
        for button in app.screen.query_one("#profile", RadioSet).query(RadioButton):
            assert str(button.label) in shown, str(button.label)
        assert "…" not in shown


# --------------------------------------------------------------------------------------------------
# Preview: copy, save, palette


async def test_copy_and_save_from_the_preview(tmp_path: Path) -> None:
    app = app_for("cpu-server", tmp_path)
    async with app.run_test(size=SIZE, notifications=True) as pilot:
        await past_machine(pilot)
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        plan = app.state.plan
        assert plan is not None
        await pilot.press("c")
        assert app.clipboard == "\n".join(command_line(s) for s in plan.steps) + "\n"
        for key in ("s", "j"):  # each asks where, with the default path filled in
            await pilot.press(key)
            await on_screen(pilot, SaveScreen)
            await pilot.press("enter")
            await on_screen(pilot, PreviewScreen)
        script = tmp_path / "out" / "torch-wizard-plan.sh"
        assert script.read_text() == render(plan, "sh")
        assert os.access(script, os.X_OK)
        data = json.loads((tmp_path / "out" / "torch-wizard-plan.json").read_text())
        assert data["steps"][-1]["argv"] == list(plan.steps[-1].argv)
        assert not (tmp_path / "out" / "torch-wizard-plan.ps1").exists()  # not a Windows target
        await pilot.press("w")
        await pilot.pause()
        assert not (tmp_path / "out" / "torch-wizard-plan.ps1").exists()
        titles = [c.title for c in app.get_system_commands(app.screen)]
        assert {"Copy commands", "Save shell script", "Save plan JSON"} <= set(titles)
        assert "Save PowerShell script" not in titles
        assert any("Saved" in n.message for n in app._notifications)


async def test_windows_target_saves_powershell(tmp_path: Path) -> None:
    def windows() -> Machine:
        from torch_wizard.machine import apply_overrides

        return apply_overrides(fixture_machine("cpu-server"), os="windows")

    app = WizardApp(
        windows, Choices(venv="C:\\tw\\.venv"), dry_run=True, save_dir=tmp_path, state_dir=tmp_path
    )
    async with app.run_test(size=SIZE) as pilot:
        await past_machine(pilot)
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        await pilot.press("w")
        await on_screen(pilot, SaveScreen)
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        assert app.state.plan is not None
        ps1 = (tmp_path / "torch-wizard-plan.ps1").read_bytes().decode()
        assert ps1 == render(app.state.plan, "ps1")
        assert "Save PowerShell script" in [c.title for c in app.get_system_commands(app.screen)]


async def test_screenshot_binding_writes_an_svg(tmp_path: Path) -> None:
    app = app_for("cpu-server", tmp_path, screenshot_dir=tmp_path / "shots")
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.screen.machine is not None)  # type: ignore[attr-defined]
        await pilot.press("f8")
        await on_screen(pilot, SaveScreen)
        await pilot.press("enter")
        await on_screen(pilot, MachineScreen)
    svgs = list((tmp_path / "shots").glob("*.svg"))
    assert len(svgs) == 1 and "<svg" in svgs[0].read_text()


# --------------------------------------------------------------------------------------------------
# Detection: a slow probe never freezes the UI; a bad profile exits 2


async def test_slow_detection_shows_a_loading_indicator_and_keeps_the_ui_alive(
    tmp_path: Path,
) -> None:
    release = threading.Event()

    def slow() -> Machine:
        release.wait(20)
        return fixture_machine("cpu-server")

    app = WizardApp(slow, Choices(venv=SNAP_VENV), dry_run=True, save_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, MachineScreen)
        screen = app.screen
        assert screen.query_one(LoadingIndicator).display
        assert screen.query_one("#detecting").display
        before = app.theme
        await pilot.press("ctrl+t")  # the UI answers while the probe is stuck
        await pilot.pause()
        assert app.theme != before
        await pilot.press("enter")  # Next is disabled until the machine is known
        await pilot.pause()
        assert app.screen is screen
        release.set()
        await wait_for(pilot, lambda: screen.machine is not None)  # type: ignore[attr-defined]
        assert not screen.query_one("#detecting").display
        await past_machine(pilot)


async def test_hung_nvidia_smi_fixture_is_reported_as_a_note(tmp_path: Path) -> None:
    app = app_for("nvidia-smi-hangs", tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await on_screen(pilot, MachineScreen)
        screen = app.screen
        await wait_for(pilot, lambda: screen.machine is not None, timeout=20)  # type: ignore[attr-defined]
        notes = screen.query_one("#notes", Static)
        assert notes.display and "nvidia-smi" in text_of(notes)


async def test_detection_error_exits_2_with_the_message(tmp_path: Path) -> None:
    def broken() -> Machine:
        raise UsageError("--profile x.json: no such file; save one with 'detect --json'")

    app = WizardApp(broken, dry_run=True, save_dir=tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 2
    assert app.error_message.startswith("--profile x.json")


# --------------------------------------------------------------------------------------------------
# Run: a real plan of small commands, a failure, a cancel


async def go_to_run(pilot: Pilot[int]) -> None:
    await past_machine(pilot)
    await pilot.press("enter")
    await on_screen(pilot, PreviewScreen)
    await pilot.press("r")
    await wait_for(pilot, lambda: isinstance(pilot.app.screen, (RunScreen, DoneScreen)))


async def test_run_streams_steps_and_ends_on_done(tmp_path: Path) -> None:
    app = running_app("cpu-server", tmp_path, *OK_STEPS)
    async with app.run_test(size=SIZE) as pilot:
        await go_to_run(pilot)
        await on_screen(pilot, DoneScreen)
        result = app.result
        assert result.finished.outcome == "ok"
        log = Path(result.finished.log_path)
        assert log.is_file() and "line 39" in log.read_text()
        body = " ".join(text_of(w) for w in app.screen.query(Static))
        assert "PyTorch is installed" in body
        # These stand-in steps never make the venv, so nothing offers to use it (the rehearsal
        # below, with a real venv, shows how to use it).
        assert result.finished.venv_state == "absent"
        assert "bin/activate" not in body and "c" not in app.screen.active_bindings
        assert "Log:" in body
        await pilot.press("enter")
    assert app.return_code == 0


async def test_rehearsed_run_creates_the_venv_and_shows_the_verification(tmp_path: Path) -> None:
    """The real plan's steps with quick stand-ins: a real venv, a canned report parsed by the
    runner, and a Done screen that shows it in plain words (paths shown through an alias)."""
    venv = tmp_path / "venv"
    app = app_for(
        "rtx4090-driver550",
        tmp_path,
        dry_run=False,
        planner=rehearsal_planner("ok"),
        runner_factory=runner_in(tmp_path / "state"),
        path_aliases={str(venv): "~/project/.venv"},
    )
    async with app.run_test(size=SIZE) as pilot:
        await go_to_run(pilot)
        await on_screen(pilot, DoneScreen)
        finished = app.result.finished
        assert finished.outcome == "ok" and finished.venv_state == "created"
        assert finished.verify is not None and finished.verify.torch == "2.15.0+cu126"
        screen = app.screen
        report = text_of(screen.query_one("#report", Static))
        assert "torch 2.15.0+cu126 (CUDA 12.6)" in report
        assert "the GPU through CUDA (NVIDIA GeForce RTX 4090)" in report
        assert "GFLOP/s" in report and "exactly right" in report
        assert not screen.query("#done-message")  # the report says it; no second summary
        note = text_of(screen.query_one("#venv-note", Static))
        assert note == "The new venv ~/project/.venv holds the install."
        assert "source ~/project/.venv/bin/activate" in text_of(screen.query_one("#use", Static))
        assert "Receipt: ~/project/.venv/" in text_of(screen.query_one("#paths", Static))
        assert "c" in screen.active_bindings
        await pilot.press("c")
        assert app.clipboard == f"source {venv}/bin/activate"
    assert (venv / "pyvenv.cfg").is_file()
    assert Path(finished.receipt_path).is_file() and Path(finished.receipt_path).parent == venv


async def test_machine_screen_says_what_pytorch_can_use_and_shows_notes(tmp_path: Path) -> None:
    app = app_for("container-no-devnodes", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await on_screen(pilot, MachineScreen)
        screen = app.screen
        await wait_for(pilot, lambda: screen.machine is not None)  # type: ignore[attr-defined]
        verdict = text_of(screen.query_one("#verdict", Static))
        # named from its PCI id through the GPU table (no nvidia-smi in that container)
        assert verdict.startswith("! NVIDIA GeForce RTX 4090 found (driver 550.54.14)")
        assert "PyTorch would run on the CPU" in verdict
        notes = screen.query_one("#notes", Static)
        assert notes.display and "/dev/nvidia* is missing" in text_of(notes)
        assert verdict and screen.query_one("#verdict").region.y < notes.region.y


async def test_run_screen_shows_progress_and_bounded_log(tmp_path: Path) -> None:
    release = tmp_path / "go"
    wait_code = (
        "import os, time\nfor i in range(30): print(f'line {i}')\nprint('Progress 40 of 100', flush=True)\n"
        f"while not os.path.exists({str(release)!r}): time.sleep(0.05)"
    )
    from tests.support.ui import py_step

    steps = (py_step("install-torch", "Install (fixture)", wait_code, progress="pip"),)
    app = running_app("cpu-server", tmp_path, *steps)
    async with app.run_test(size=SIZE) as pilot:
        await go_to_run(pilot)
        screen = app.screen
        from textual.widgets import Log, ProgressBar

        log = screen.query_one(Log)
        bar = screen.query_one(ProgressBar)
        await wait_for(pilot, lambda: bar.progress == 40)
        assert bar.total == 100
        assert log.max_lines is not None
        assert any("line 29" in line for line in log.lines)
        assert "▶" in text_of(screen.query_one("#step-0", Static))
        release.write_text("go")
        await on_screen(pilot, DoneScreen)


async def test_failed_step_is_shown_with_its_output_and_hints(tmp_path: Path) -> None:
    app = running_app("cpu-server", tmp_path, *FAIL_STEPS)
    async with app.run_test(size=SIZE) as pilot:
        await go_to_run(pilot)
        await on_screen(pilot, DoneScreen)
        f = app.result.finished
        assert f.outcome == "failed" and f.failed_step == "install-torch"
        screen = app.screen
        # the runner's message names the step, so there is no separate "Failed step" line
        assert "Install torch (fixture)" in text_of(screen.query_one("#done-message", Static))
        assert not screen.query("#failed-step")
        assert "Could not find a version" in text_of(screen.query_one("#tail", Static))
        assert "index has no matching wheel" in text_of(screen.query_one("#hints", Static))
        await pilot.press("escape")  # back to the preview to change something
        await on_screen(pilot, PreviewScreen)
        await pilot.press("escape")
        await on_screen(pilot, ChoicesScreen)
        await pilot.press("ctrl+q")
    assert app.return_code == 1  # leaving after a failed run, wherever from, says it failed


async def test_cancel_asks_first_then_stops_the_child(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    app = app_for(
        "cpu-server",
        tmp_path,
        dry_run=False,
        planner=planner_with(*blocking_steps(pid_file)),
        runner_factory=runner_in(tmp_path / "state", grace=0.5),
    )
    async with app.run_test(size=SIZE) as pilot:
        await go_to_run(pilot)
        await wait_for(pilot, pid_file.exists)
        pid = int(pid_file.read_text())
        await pilot.press("escape")
        await pilot.pause()
        from torch_wizard.ui.screens.confirm import ConfirmScreen

        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")  # keep running
        await pilot.pause(0.3)
        assert isinstance(app.screen, RunScreen)
        os.kill(pid, 0)  # still alive
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await on_screen(pilot, DoneScreen)
        assert app.result.finished.outcome == "cancelled"
        assert "cancelled" in text_of(app.screen.query_one("#headline", Static))
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 130  # as 'torch-wizard install' exits after a cancel
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


@pytest.mark.parametrize("leave", ["done", "preview"])
async def test_cancel_removes_the_new_venv_and_done_offers_nothing_for_it(
    tmp_path: Path, leave: str
) -> None:
    """A real venv, then a sleeping step: cancelled, the runner removes the venv it made, the
    Done screen says so and offers no way to use it, and leaving exits 130 (from the Done screen,
    or after going back to the preview)."""
    venv = tmp_path / "venv"
    marker = f"tw-cancel-{uuid.uuid4().hex}"
    app = app_for(
        "cpu-server",
        tmp_path,
        dry_run=False,
        planner=planner_with(*sleeping_steps(venv, marker)),
        runner_factory=runner_in(tmp_path / "state", grace=0.5),
    )
    async with app.run_test(size=SIZE) as pilot:
        await go_to_run(pilot)
        await wait_for(pilot, lambda: processes_with_marker(marker))
        assert (venv / "pyvenv.cfg").is_file()
        await pilot.press("escape")
        await pilot.pause()
        await pilot.press("y")
        await on_screen(pilot, DoneScreen)
        f = app.result.finished
        assert f.outcome == "cancelled" and f.venv_state == "removed"
        assert not venv.exists()
        screen = app.screen
        assert "was removed" in text_of(screen.query_one("#venv-note", Static))
        body = " ".join(text_of(w) for w in screen.query(Static))
        assert "activate" not in body and "your_script.py" not in body
        assert "c" not in screen.active_bindings  # no "Copy activate" in the footer
        await pilot.press("c")
        assert app.clipboard == ""
        if leave == "preview":
            await pilot.press("escape")
            await on_screen(pilot, PreviewScreen)
            await pilot.press("ctrl+q")
        else:
            await pilot.press("enter")
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 130
    assert processes_with_marker(marker) == []


async def test_quitting_mid_run_leaves_no_process(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    app = app_for(
        "cpu-server",
        tmp_path,
        dry_run=False,
        planner=planner_with(*blocking_steps(pid_file)),
        runner_factory=runner_in(tmp_path / "state", grace=0.5),
    )
    async with app.run_test(size=SIZE) as pilot:
        await go_to_run(pilot)
        await wait_for(pilot, pid_file.exists)
        pid = int(pid_file.read_text())
        await pilot.press("ctrl+q")
        await pilot.pause()
        await pilot.press("y")
        await wait_for(pilot, lambda: app.return_code is not None)
    assert app.return_code == 130
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    # No Done screen was shown: what the ui command prints on stderr once the terminal is back.
    f = app.interrupted
    assert f is not None and f.outcome == "cancelled"
    lines = app.exit_lines()
    assert lines[0] == "Cancelled during step 'install-torch' (quit)"
    assert lines[1] == f.venv_note and f.venv_note
    assert lines[2] == f"log: {f.log_path}" and Path(f.log_path).is_file()
