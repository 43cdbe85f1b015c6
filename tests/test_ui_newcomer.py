"""The wizard as a newcomer meets it (#10): keys and help, honest options, figures that follow the
inputs, the preview's order, layouts from 60x18 to 120x40, the Run screen's log tools, saving with
a path, the default venv, the theme. Real app through Pilot on fixture machines; real files."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

import pytest
import tomllib
from textual.command import CommandPalette
from textual.pilot import Pilot
from textual.widgets import Button, Checkbox, Input, Label, ProgressBar, RadioButton, Static

from tests.support.ui import (
    app_for,
    fixture_machine,
    on_screen,
    past_machine,
    py_step,
    rehearsal_planner,
    running_app,
    text_of,
    wait_for,
)
from torch_wizard.machine import detect
from torch_wizard.plan import Choices, make_plan
from torch_wizard.plan.render import render
from torch_wizard.ui import settings
from torch_wizard.ui.app import WizardApp
from torch_wizard.ui.screens.advanced import AdvancedScreen
from torch_wizard.ui.screens.blocker import BlockerScreen
from torch_wizard.ui.screens.choices import ChoicesScreen
from torch_wizard.ui.screens.done import DoneScreen
from torch_wizard.ui.screens.help import HelpScreen
from torch_wizard.ui.screens.machine import MachineScreen
from torch_wizard.ui.screens.preview import PreviewScreen
from torch_wizard.ui.screens.run import RunLog, RunScreen
from torch_wizard.ui.screens.save import SaveScreen
from torch_wizard.ui.state import own_venv_default, phase_of, rate_text, screen_words


async def to_preview(pilot: Pilot[Any]) -> None:
    await past_machine(pilot)
    await pilot.press("enter")
    await on_screen(pilot, PreviewScreen)


def footer_keys(app: WizardApp) -> list[str]:
    """The footer keys drawn whole inside the terminal."""
    from textual.widgets._footer import FooterKey

    width = app.size.width
    return [k.description for k in app.screen.query(FooterKey) if 0 < k.region.right <= width]


def on_screen_fully(widget: Any) -> bool:
    """The widget is drawn inside the terminal (not clipped off its edges)."""
    region = widget.region
    width, height = widget.app.size
    return (
        region.width > 0 and region.height > 0 and region.right <= width and region.bottom <= height
    )


# --------------------------------------------------------------------------------------------------
# Item 6: keys, help, palette, glyphs, Home/End


@pytest.mark.parametrize("size", [(60, 18), (80, 24)])
async def test_quit_and_help_are_in_the_footer_on_every_step(
    tmp_path: Path, size: tuple[int, int]
) -> None:
    app = app_for("cpu-server", tmp_path)
    async with app.run_test(size=size) as pilot:
        await on_screen(pilot, MachineScreen)
        await wait_for(pilot, lambda: app.screen.machine is not None)  # type: ignore[attr-defined]
        await pilot.pause(0.2)
        assert {"Quit", "Help"} <= set(footer_keys(app))
        await pilot.press("enter")
        await on_screen(pilot, ChoicesScreen)
        await pilot.pause(0.2)
        assert {"Quit", "Help", "Next", "Back"} <= set(footer_keys(app))
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        await pilot.pause(0.2)
        assert {"Quit", "Help", "Copy"} <= set(footer_keys(app))


@pytest.mark.parametrize("key", ["f1", "question_mark"])
async def test_help_lists_the_keys_of_the_screen_and_esc_closes_only_it(
    tmp_path: Path, key: str
) -> None:
    app = app_for("cpu-server", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_preview(pilot)
        await pilot.press(key)
        await on_screen(pilot, HelpScreen)
        shown = text_of(app.screen.query_one("#help-keys", Static))
        for needle in ("Copy the commands", "Save a shell script", "Leave; nothing is run", "^q"):
            assert needle in shown
        assert "⏎" not in shown  # Enter is spelled out, and no entry is blank
        await pilot.press("escape")
        await on_screen(pilot, PreviewScreen)  # Esc closed the help, not the step


async def test_question_mark_types_into_a_text_field(tmp_path: Path) -> None:
    app = app_for("cpu-server", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await past_machine(pilot)
        box = app.screen.query_one("#venv", Input)
        box.focus()
        await pilot.press("end", "question_mark")
        await pilot.pause()
        assert box.value.endswith("?") and isinstance(app.screen, ChoicesScreen)


async def test_palette_on_the_preview_copies_and_saves(tmp_path: Path) -> None:
    app = app_for("cpu-server", tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await to_preview(pilot)
        plan = app.state.plan
        assert plan is not None
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: CommandPalette.is_open(app))
        # While the palette is open it is the top screen; the commands still find the plan.
        assert isinstance(app.screen, CommandPalette) and app.plan is plan
        titles = [c.title for c in app.get_system_commands(app.screen_stack[-2])]
        assert {
            "Copy commands",
            "Save shell script",
            "Save plan JSON",
            "Save answers (TOML)",
        } <= set(titles)
        assert titles.count("Save screenshot (SVG)") == 1 and "Screenshot" not in titles
        await pilot.press(*"copy")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await wait_for(pilot, lambda: app.clipboard != "")
        assert "torch==" in app.clipboard
        await pilot.press("ctrl+p")
        await wait_for(pilot, lambda: CommandPalette.is_open(app))
        await pilot.press(*"save answers")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await on_screen(pilot, SaveScreen)
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        answers = tomllib.loads((tmp_path / "out" / "torch-wizard-answers.toml").read_text())
        assert answers["venv"] == str(tmp_path / "venv")
        assert "backend" not in answers  # not picked: stays "auto" (chosen per machine)


async def test_selection_shows_as_glyphs_and_home_end_move_the_cursor(tmp_path: Path) -> None:
    app = app_for("cpu-server", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await past_machine(pilot)
        torch = app.screen.query_one("#set-torch")
        buttons = list(torch.query(RadioButton))
        drawn = {str(b.render()).split(" ")[0] for b in buttons}
        assert "▐●▌" in drawn and "▐○▌" in drawn  # chosen and not chosen differ without colour
        box = next(iter(app.screen.query("#packages Checkbox").results(Checkbox)))
        assert "✓" in str(box.render())
        torch.focus()
        await pilot.press("end")
        assert torch._selected == len(buttons) - 1  # type: ignore[attr-defined]
        assert buttons[-1].region.bottom <= torch.region.bottom  # scrolled into view
        await pilot.press("home")
        assert torch._selected == 0  # type: ignore[attr-defined]


# --------------------------------------------------------------------------------------------------
# Item 2: nothing impossible offered unmarked; a blocker screen without Next


async def test_32bit_python_gets_a_blocker_screen_without_next(tmp_path: Path) -> None:
    app = app_for("raspberry-pi4-32bit", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await on_screen(pilot, MachineScreen)
        await wait_for(pilot, lambda: app.screen.machine is not None)  # type: ignore[attr-defined]
        await pilot.press("enter")
        await on_screen(pilot, BlockerScreen)
        screen = app.screen
        assert "32-bit" in text_of(screen.query_one("#blocker-reason", Static))
        assert "64-bit Python" in text_of(screen.query_one("#blocker-fix", Static))
        labels = {str(b.label) for b in screen.query(Button)}
        assert labels == {"Back", "Quit"}
        await pilot.press("enter")  # Enter does not move on
        await pilot.pause(0.2)
        assert isinstance(app.screen, BlockerScreen)
        await pilot.press("escape")
        await on_screen(pilot, MachineScreen)


async def test_jetson_offers_only_the_versions_on_its_index(tmp_path: Path) -> None:
    from torch_wizard.catalog import load

    app = app_for("jetson-orin-jp62", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await past_machine(pilot)
        screen = app.screen
        assert isinstance(screen, ChoicesScreen)
        route = load().jetson("6.2")
        assert route is not None
        offered = [b.name for b in screen.query_one("#set-torch").query(RadioButton)]
        assert offered and set(offered) <= set(route.torch)
        channels = {b.name: b.disabled for b in screen.query_one("#set-channel").query(RadioButton)}
        assert channels == {"stable": False, "test": True, "nightly": True}
        summary = text_of(screen.query_one("#summary", Static))
        assert "no GPU" not in summary


async def test_jetson_machine_screen_lists_its_gpu(tmp_path: Path) -> None:
    app = app_for("jetson-orin-jp62", tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await on_screen(pilot, MachineScreen)
        await wait_for(pilot, lambda: app.screen.machine is not None)  # type: ignore[attr-defined]
        values = [text_of(w) for w in app.screen.query("#machine-profile .value").results(Static)]
        assert not any(v == "none found" for v in values)
        assert any("integrated NVIDIA GPU" in v for v in values)


def test_no_screen_sentence_tells_the_user_to_pass_a_flag() -> None:
    said = screen_words(
        "The GPU is not usable from here, so the CPU build; pass --backend cuXYZ to use it "
        "(pass --compute-capability X.Y if needed), or build from source with --build source."
    )
    assert "--" not in said
    assert "pick a CUDA entry in the Backend list" in said
    assert "Compute capability under Advanced (a)" in said
    assert screen_words("pip install --index-url x") == "pip install --index-url x"  # argv stays
    assert screen_words("or pick --torch 2.9.1") == "or pick 2.9.1 in the Torch version list"
    assert screen_words("left out; add it with --packages torch,...,torchaudio to try.") == (
        "left out; add it: tick torchaudio in Packages to try."
    )
    assert screen_words("docker run without --gpus all") == "docker run without --gpus all"


@pytest.mark.parametrize(
    "name", ["cpu-server", "container-no-devnodes", "amd-kfd-only", "rtx4090-driver550"]
)
async def test_choices_and_preview_prose_name_fields_not_flags(tmp_path: Path, name: str) -> None:
    app = app_for(name, tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await past_machine(pilot)
        assert "pass --" not in text_of(app.screen.query_one("#why-text", Static))
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        for widget in app.screen.query("#plan-notes, #plan-warnings").results(Static):
            assert "pass --" not in text_of(widget)


# --------------------------------------------------------------------------------------------------
# Item 4: the Preview's order; the Machine screen's warnings


async def test_preview_order_and_verify_folded(tmp_path: Path) -> None:
    app = app_for("old-xeon-no-avx2", tmp_path)
    async with app.run_test(size=(100, 60)) as pilot:
        await to_preview(pilot)
        screen = app.screen
        plan = app.state.plan
        assert plan is not None and plan.warnings
        order = [
            screen.query_one(sel).region.y
            for sel in ("#plan-summary", "#plan-warnings", ".command", "#plan-notes")
        ]
        assert order == sorted(order)
        folded = screen.query_one("#verify-folded", Static)
        full = screen.query_one("#verify-full", Static)
        assert folded.display and not full.display
        assert "\n" not in text_of(folded) and "check script" in text_of(folded)
        await pilot.press("v")
        await pilot.pause()
        assert full.display and not folded.display
        verify = next(s for s in plan.steps if s.id == "verify")
        assert verify.argv[-1] in text_of(full) or "import" in text_of(full)


async def test_machine_screen_warns_about_little_ram(tmp_path: Path) -> None:
    from dataclasses import replace

    def small() -> Any:
        m = fixture_machine("raspberry-pi5")
        return replace(m, memory=replace(m.memory, total=1_073_741_824))

    app = WizardApp(small, Choices(venv=str(tmp_path / "v")), dry_run=True, save_dir=tmp_path)
    async with app.run_test(size=(80, 24)) as pilot:
        await on_screen(pilot, MachineScreen)
        await wait_for(pilot, lambda: app.screen.machine is not None)  # type: ignore[attr-defined]
        notes = app.screen.query_one("#notes", Static)
        assert notes.display and "Only 1.1 GB of RAM" in text_of(notes)
        memory = [text_of(w) for w in app.screen.query("#machine-profile .value").results(Static)]
        assert any(v.startswith("1.1 GB total") for v in memory)  # GB on both, not GiB beside GB


# --------------------------------------------------------------------------------------------------
# Item 1: Advanced


async def test_advanced_sets_the_mirror_cache_and_gpu_facts(tmp_path: Path) -> None:
    app = app_for("container-no-devnodes", tmp_path)
    async with app.run_test(size=(100, 36)) as pilot:
        await past_machine(pilot)
        await pilot.press("a")
        await on_screen(pilot, AdvancedScreen)
        screen = app.screen
        index = screen.query_one("#index_base", Input)
        index.value = "http://mirror.example/whl"
        await pilot.pause()
        problems = text_of(screen.query_one("#advanced-problems", Static))
        assert "plain http" in problems and "--" not in problems
        await pilot.press("enter")  # refused while a field is wrong
        await pilot.pause()
        assert isinstance(app.screen, AdvancedScreen)
        index.value = "https://mirror.example/whl"
        screen.query_one("#cache_dir", Input).value = str(tmp_path / "cache")
        screen.query_one("#compute_capability", Input).value = "8.6"
        await pilot.pause()
        await pilot.press("enter")
        await on_screen(pilot, ChoicesScreen)
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        plan = app.state.plan
        assert plan is not None
        assert plan.choice.index_url.startswith("https://mirror.example/whl/")
        assert plan.choice.cache_dir == str(tmp_path / "cache")
        assert {g.compute_capability for g in plan.target.nvidia.gpus} == {"8.6"}


async def test_source_step_has_location_ref_and_checkout(tmp_path: Path) -> None:
    from torch_wizard.ui.screens.source import SourceScreen

    app = app_for("cpu-server", tmp_path)
    async with app.run_test(size=(100, 36)) as pilot:
        await past_machine(pilot)
        source = next(
            b for b in app.screen.query_one("#set-build").query(RadioButton) if b.name == "source"
        )
        await pilot.click(source)
        await wait_for(pilot, lambda: app.screen.options.choices.build == "source")  # type: ignore[attr-defined]
        await pilot.press("enter")
        await on_screen(pilot, SourceScreen)
        app.screen.query_one("#source-url", Input).value = str(tmp_path / "pytorch")
        app.screen.query_one("#source-ref", Input).value = "v2.9.1"
        app.screen.query_one("#source-dir", Input).value = str(tmp_path / "src")
        app.screen.query_one("#configure-only", Checkbox).value = True
        await pilot.click("#next")
        await wait_for(pilot, lambda: not isinstance(app.screen, SourceScreen))
        s = app.state.choices.source
        assert (s.url, s.ref, s.checkout) == (
            str(tmp_path / "pytorch"),
            "v2.9.1",
            str(tmp_path / "src"),
        )
        assert s.configure_only


# --------------------------------------------------------------------------------------------------
# Item 3: figures follow the inputs


async def test_free_disk_follows_the_venv_typed(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()

    def host() -> Any:
        return detect(target_path=str(tmp_path / "a" / "venv"))

    app = WizardApp(
        host, Choices(venv=str(tmp_path / "a" / "venv")), dry_run=True, save_dir=tmp_path
    )
    async with app.run_test(size=(100, 32)) as pilot:
        await past_machine(pilot)
        box = app.screen.query_one("#venv", Input)
        box.value = str(tmp_path / "b" / "venv")
        await wait_for(pilot, lambda: app.screen.choices.venv == str(tmp_path / "b" / "venv"))  # type: ignore[attr-defined]
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        estimate = text_of(app.screen.query_one("#estimate", Static))
        assert f"free at {tmp_path / 'b'}" in estimate
        assert "rough" in estimate


# --------------------------------------------------------------------------------------------------
# Item 5: layouts


@pytest.mark.parametrize("size", [(60, 18), (80, 24), (120, 40)])
async def test_back_and_next_stay_on_screen(tmp_path: Path, size: tuple[int, int]) -> None:
    app = app_for("rtx4090-driver550", tmp_path)
    async with app.run_test(size=size) as pilot:
        await past_machine(pilot)
        await pilot.pause(0.2)
        for button in ("#back", "#next"):
            assert on_screen_fully(app.screen.query_one(button))
        channels = app.screen.query_one("#set-channel")
        for b in channels.query(RadioButton):  # every channel drawn, none clipped off the side
            assert b.region.right <= size[0]
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        await pilot.pause(0.2)
        assert on_screen_fully(app.screen.query_one("#back"))


@pytest.mark.parametrize(("size", "shown"), [((50, 15), True), ((60, 18), False)])
async def test_a_terminal_below_60x18_is_told_so(
    tmp_path: Path, size: tuple[int, int], shown: bool
) -> None:
    app = app_for("cpu-server", tmp_path)
    async with app.run_test(size=size) as pilot:
        await past_machine(pilot)
        await pilot.pause(0.2)
        notes = list(app.screen.query("#too-small").results(Static))
        assert bool(notes and notes[0].display) == shown
        if shown:
            assert "needs at least 60x18" in text_of(notes[0])
            assert on_screen_fully(notes[0])


async def test_lists_grow_with_the_terminal(tmp_path: Path) -> None:
    heights = []
    for size in ((80, 24), (120, 40)):
        app = app_for("rtx4090-driver550", tmp_path)
        async with app.run_test(size=size) as pilot:
            await past_machine(pilot)
            await pilot.pause(0.2)
            heights.append(app.screen.query_one("#set-torch").region.height)
    assert heights[1] > heights[0] + 4


# --------------------------------------------------------------------------------------------------
# Item 7: the Run screen


def test_phase_and_rate_text() -> None:
    assert phase_of("install-torch", "Collecting torch==2.9.1", "") == "resolving"
    assert phase_of("install-torch", "Progress 5 of 10", "resolving") == "downloading"
    assert phase_of("install-torch", "Installing collected packages: torch", "downloading") == (
        "installing"
    )
    assert phase_of("install-torch", "Collecting markupsafe", "installing") == "installing"
    assert phase_of("verify", "", "") == "verifying"
    assert rate_text([(0.0, 0), (2.0, 20_000_000)], 100_000_000) == "10.0 MB/s, 0:08 left"
    assert rate_text([(0.0, 0)], 10) == ""


async def test_run_phase_is_never_stale_and_the_log_wraps_finds_and_follows(
    tmp_path: Path,
) -> None:
    release = tmp_path / "go"
    code = (
        "import os, time\n"
        "print('Collecting torch==2.9.1')\n"
        "print('Progress 50 of 100')\n"
        "print('x' * 300)\n"
        "for i in range(200): print(f'line {i}')\n"
        "print('needle here')\n"
        "print('Installing collected packages: torch', flush=True)\n"
        f"while not os.path.exists({str(release)!r}): time.sleep(0.05)\n"
    )
    steps = (py_step("install-torch", "Install torch (fixture)", code, progress="pip"),)
    app = running_app("cpu-server", tmp_path, *steps)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await to_preview(pilot)
            await pilot.press("r")
            await on_screen(pilot, RunScreen)
            screen = app.screen
            assert isinstance(screen, RunScreen)
            log = screen.query_one(RunLog)
            await wait_for(
                pilot, lambda: screen.phase == "installing" or screen.finished is not None
            )
            assert screen.finished is None, screen.finished
            # The download figures are gone once pip installs: no "downloading" label left over.
            assert text_of(screen.query_one("#phase", Label)) == "installing"
            assert text_of(screen.query_one("#progress-label", Label)) == ""
            assert screen.query_one(ProgressBar).total is None
            assert log.wrap and max(len(line) for line in log.lines) < 80  # wrapped at first
            await pilot.press("w")
            await pilot.pause()
            assert not log.wrap and max(len(line) for line in log.lines) >= 300
            await pilot.press("w")
            await pilot.pause()
            assert log.wrap and max(len(line) for line in log.lines) < 80
            await pilot.press("slash")
            await pilot.press(*"needle", "enter")
            await pilot.pause()
            assert "needle" in log.lines[screen.match]
            assert f"line {screen.match + 1} of" in text_of(
                screen.query_one("#follow-state", Label)
            )
            log.scroll_home(animate=False)
            await pilot.pause(0.4)
            assert "paused" in text_of(screen.query_one("#follow-state", Label))
            await pilot.press("f")
            await pilot.pause(0.4)
            assert "following" in text_of(screen.query_one("#follow-state", Label))
            release.write_text("go")
            await on_screen(pilot, DoneScreen)
    finally:
        release.write_text("go")


# --------------------------------------------------------------------------------------------------
# Item 8: saving


async def test_save_asks_for_a_path_and_confirms_an_overwrite(tmp_path: Path) -> None:
    app = app_for("cpu-server", tmp_path)
    async with app.run_test(size=(100, 32), notifications=True) as pilot:
        await to_preview(pilot)
        plan = app.state.plan
        assert plan is not None
        await pilot.press("s")
        await on_screen(pilot, SaveScreen)
        box = app.screen.query_one("#save-path", Input)
        assert box.value == str(tmp_path / "out" / "torch-wizard-plan.sh")  # the default shown
        target = tmp_path / "elsewhere" / "install.sh"
        box.value = str(target)
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        assert target.read_text() == render(plan, "sh") and os.access(target, os.X_OK)
        assert any(str(target) in n.message for n in app._notifications)  # the full path
        target.write_text("mine")
        await pilot.press("s")
        await on_screen(pilot, SaveScreen)
        app.screen.query_one("#save-path", Input).value = str(target)
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, SaveScreen)  # asks first
        assert "exists" in text_of(app.screen.query_one("#save-problem", Static))
        assert target.read_text() == "mine"
        await pilot.press("enter")
        await on_screen(pilot, PreviewScreen)
        assert target.read_text() == render(plan, "sh")
        await pilot.press("j")
        await on_screen(pilot, SaveScreen)
        await pilot.press("escape")
        await on_screen(pilot, PreviewScreen)
        assert not (tmp_path / "out" / "torch-wizard-plan.json").exists()  # cancelled: nothing


# --------------------------------------------------------------------------------------------------
# Item 9: the default venv


def test_default_venv_is_never_the_wizards_own(tmp_path: Path) -> None:
    own = tmp_path / "proj" / ".venv"
    own.mkdir(parents=True)
    venv, why = own_venv_default(".venv", str(tmp_path / "proj"), str(own), "/usr", str(tmp_path))
    assert venv == str(tmp_path / "torch-venv") and "itself runs in" in why
    # elsewhere, or not running from a venv: .venv stays
    assert own_venv_default(".venv", str(tmp_path), str(own), "/usr", "/h") == (".venv", "")
    assert own_venv_default(".venv", str(tmp_path / "proj"), "/usr", "/usr", "/h") == (".venv", "")


async def test_the_reason_for_another_default_venv_is_on_the_choices_step(tmp_path: Path) -> None:
    app = app_for("cpu-server", tmp_path, venv_note="because this is a test")
    async with app.run_test(size=(100, 32)) as pilot:
        await past_machine(pilot)
        assert "because this is a test" in text_of(app.screen.query_one("#why-text", Static))


def test_the_ui_command_picks_another_default_venv_inside_the_wizards_own(tmp_path: Path) -> None:
    """Run in the folder whose .venv is the running interpreter's environment (the README's
    first command), the ``ui`` command hands the app a default outside it (checked before any
    terminal is needed: no TTY here, so the command stops right after choosing)."""
    import subprocess

    venv = Path(sys.prefix)
    if sys.prefix == sys.base_prefix or venv.name != ".venv":
        pytest.skip("the tests do not run from a .venv")
    code = (
        "import os, sys\n"
        "from torch_wizard.ui.state import own_venv_default\n"
        "print(own_venv_default('.venv', os.getcwd(), sys.prefix, sys.base_prefix, '/h')[0])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=venv.parent, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "/h/torch-venv"


# --------------------------------------------------------------------------------------------------
# Item 10: the theme


def test_initial_theme_prefers_textual_theme_then_the_saved_one() -> None:
    known = frozenset({"textual-dark", "textual-light", "nord"})
    assert settings.initial_theme(known, {"theme": "nord"}, {"TEXTUAL_THEME": "textual-light"}) == (
        "textual-light"
    )
    assert settings.initial_theme(known, {"theme": "nord"}, {}) == "nord"
    assert settings.initial_theme(known, {"theme": "bogus"}, {"TEXTUAL_THEME": "x"}) == (
        "textual-dark"
    )


async def test_theme_is_remembered_in_ui_json(tmp_path: Path) -> None:
    app = app_for("cpu-server", tmp_path, settings_dir=tmp_path / "cfg")
    app.use_settings()  # what a real terminal does (attach_terminal)
    async with app.run_test(size=(80, 24)) as pilot:
        await on_screen(pilot, MachineScreen)
        await pilot.press("ctrl+t")
        await pilot.pause()
        assert app.theme == "textual-light"
    assert settings.load(tmp_path / "cfg" / "ui.json") == {"theme": "textual-light"}
    again = app_for("cpu-server", tmp_path, settings_dir=tmp_path / "cfg")
    again.use_settings()
    assert again.theme == "textual-light"
    (tmp_path / "cfg" / "ui.json").write_text("{not json")
    broken = app_for("cpu-server", tmp_path, settings_dir=tmp_path / "cfg")
    broken.use_settings()
    assert broken.theme == "textual-dark"  # a broken file is no file


def test_textual_theme_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEXTUAL_THEME", "nord")
    app = app_for("cpu-server", tmp_path, settings_dir=tmp_path / "cfg")
    assert app.theme == "nord"
    settings.save(tmp_path / "cfg" / "ui.json", theme="textual-light")
    app.use_settings()
    assert app.theme == "nord"


def test_plan_for_the_advanced_machine_matches_the_cli(tmp_path: Path) -> None:
    """What the Advanced GPU facts do is what --compute-capability does on the command line."""
    from torch_wizard.machine import apply_overrides

    m = fixture_machine("container-no-devnodes")
    choices = Choices(venv=str(tmp_path / "v"))
    cli = make_plan(apply_overrides(m, compute_capability="8.6"), choices)
    assert {g.compute_capability for g in cli.target.nvidia.gpus} == {"8.6"}


async def test_rehearsed_run_reaches_done(tmp_path: Path) -> None:
    """The Run screen's new parts do not get in the way of a whole run."""
    app = app_for(
        "cpu-server",
        tmp_path,
        dry_run=False,
        planner=rehearsal_planner("ok"),
        choices=Choices(venv=str(tmp_path / ".venv")),
    )
    async with app.run_test(size=(80, 24)) as pilot:
        await to_preview(pilot)
        await pilot.press("r")
        await on_screen(pilot, DoneScreen, timeout=30)
        assert app.result.finished.outcome == "ok"


async def test_run_shows_download_speed_and_time_left(tmp_path: Path) -> None:
    release, second = tmp_path / "go", tmp_path / "second"
    # The second line waits for the test to have seen the first: two readings, never one batch.
    code = (
        "import os, time\n"
        "print('Progress 20000000 of 100000000', flush=True)\n"
        f"while not os.path.exists({str(second)!r}): time.sleep(0.05)\n"
        "print('Progress 60000000 of 100000000', flush=True)\n"
        f"while not os.path.exists({str(release)!r}): time.sleep(0.05)\n"
    )
    steps = (py_step("install-torch", "Install torch (fixture)", code, progress="pip"),)
    ticks = iter(range(10_000))

    def clock() -> float:  # one second per reading: a steady 20 MB/s between the two lines
        return float(next(ticks))

    app = running_app("cpu-server", tmp_path, *steps, clock=clock)
    try:
        async with app.run_test(size=(100, 30)) as pilot:
            await to_preview(pilot)
            await pilot.press("r")
            await on_screen(pilot, RunScreen)
            screen = app.screen
            bar = screen.query_one(ProgressBar)
            await wait_for(pilot, lambda: bar.progress == 20_000_000)
            second.write_text("go")
            await wait_for(pilot, lambda: bar.progress == 60_000_000)
            label = text_of(screen.query_one("#progress-label", Label))
            assert "MB/s" in label and "left" in label, label
            assert text_of(screen.query_one("#phase", Label)) == "downloading"
    finally:
        release.write_text("go")


async def test_a_run_that_ends_under_the_help_screen_still_reaches_done(tmp_path: Path) -> None:
    release = tmp_path / "go"
    code = f"import os, time\nwhile not os.path.exists({str(release)!r}): time.sleep(0.05)\n"
    steps = (py_step("install-torch", "Install torch (fixture)", code),)
    app = running_app("cpu-server", tmp_path, *steps)
    try:
        async with app.run_test(size=(80, 24)) as pilot:
            await to_preview(pilot)
            await pilot.press("r")
            await on_screen(pilot, RunScreen)
            await pilot.press("f1")
            await on_screen(pilot, HelpScreen)
            release.write_text("go")
            await on_screen(pilot, DoneScreen)
            assert [type(s).__name__ for s in app.screen_stack[1:]] == ["DoneScreen"]
    finally:
        release.write_text("go")


class BrokenRunner:
    """A runner that breaks after the first step starts (the UI's own error path)."""

    def __init__(self, plan: Any) -> None:
        self.plan = plan

    async def events(self) -> Any:
        from torch_wizard.run.events import StepStarted

        yield StepStarted(0, self.plan.steps[0])
        raise RuntimeError("the runner broke")

    def cancel(self, force: bool = False) -> None:
        pass


async def test_a_broken_runner_ends_on_a_failed_done(tmp_path: Path) -> None:
    app = app_for("cpu-server", tmp_path, dry_run=False, runner_factory=BrokenRunner)
    async with app.run_test(size=(80, 24)) as pilot:
        await to_preview(pilot)
        await pilot.press("r")
        await on_screen(pilot, DoneScreen)
        assert app.result.finished.outcome == "failed"
        assert "the runner broke" in app.result.finished.message


async def test_clicking_back_on_the_preview_returns_to_the_choices(tmp_path: Path) -> None:
    app = app_for("cpu-server", tmp_path)
    async with app.run_test(size=(100, 32)) as pilot:
        await to_preview(pilot)
        await pilot.click("#back")
        await on_screen(pilot, ChoicesScreen)
        await pilot.click("#next")
        await on_screen(pilot, PreviewScreen)
        await pilot.click("#copy")
        await pilot.pause()
        assert "torch==" in app.clipboard and isinstance(app.screen, PreviewScreen)
