"""The Textual wizard: one App, one orchestrator worker, one screen per step.

``WizardApp`` takes its dependencies (where the machine comes from, the initial choices, the
planner, the runner) so tests drive it with fixture machines and fast plans. The flow is linear:
Machine -> Choices -> (Source) -> Preview -> Run -> Done; each step is a screen that dismisses with
``Next(value)``, ``Back()`` or ``Cancel()``, and the orchestrator keeps a frozen ``WizardState``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any, ClassVar, Protocol

from textual import work
from textual.app import App, SystemCommand
from textual.binding import Binding, BindingType
from textual.screen import Screen
from textual.worker import Worker, WorkerState

from torch_wizard.errors import UsageError, WizardError
from torch_wizard.machine.model import Machine
from torch_wizard.plan.model import Choices, Plan
from torch_wizard.plan.options import Options
from torch_wizard.run.events import Event, Finished
from torch_wizard.ui.screens.base import WizardScreen
from torch_wizard.ui.state import Back, Cancel, WizardState, flow_steps

THEMES = ("textual-dark", "textual-light")
CANCELLED = 130  # the exit status of a cancelled run, as ``torch-wizard install`` returns it
# Signals that end the wizard like a cancel: a closed terminal (SIGHUP), a polite kill (SIGTERM), a
# kill -INT from outside (the wizard's own Ctrl+C is a key, not a signal, in raw mode).
EXIT_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGHUP", "SIGTERM", "SIGINT") if hasattr(signal, name)
)


class RunnerLike(Protocol):
    """What the Run step needs from a runner: its events, and a way to stop it."""

    def events(self) -> AsyncIterator[Event]: ...

    def cancel(self, force: bool = False) -> None: ...


RunnerFactory = Callable[[Plan], RunnerLike]


def real_runner(state_dir: str | os.PathLike[str] | None = None) -> RunnerFactory:
    """The real runner: logs under ``state_dir/logs`` (default: the per-OS log directory)."""

    def make(plan: Plan) -> RunnerLike:
        from torch_wizard.run.runner import Runner

        return Runner(plan, state_dir=state_dir)

    return make


def _fixed(machine: Machine | None) -> Callable[[], Machine]:
    def source() -> Machine:
        if machine is None:
            raise UsageError("no machine to plan for")
        return machine

    return source


def run_exit_code(finished: Finished) -> int:
    """The exit status for a run's outcome: the same as ``torch-wizard install``'s."""
    from torch_wizard.commands.install import exit_code

    return exit_code(finished)


class WizardApp(App[int]):
    """The wizard. ``App.run()`` returns the exit code: 0 done or quit, otherwise the last run's
    (1 a step failed, 2 pre-flight, 130 cancelled), 2 bad input, 130 stopped by a signal.

    ``handle_signals`` (set by the ``ui`` command, off under Pilot): SIGHUP, SIGTERM and SIGINT
    cancel a running plan, wait for the runner to stop its children, and leave with 130.
    """

    CSS_PATH = "wizard.tcss"
    TITLE = "torch-wizard"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "ctrl+q",
            "quit",
            "Quit",
            id="quit-app",
            tooltip="Leave the wizard (a running install is stopped first, after a yes)",
            priority=True,
        ),
        Binding(
            "f1,question_mark",
            "help",
            "Help",
            id="help",
            tooltip="Show every key of this screen",
        ),
        Binding(
            "f8",
            "screenshot",
            "Screenshot",
            id="screenshot",
            tooltip="Save an SVG screenshot of this screen",
            show=False,
        ),
        Binding(
            "ctrl+t",
            "toggle_theme",
            "Light/dark",
            id="theme",
            tooltip="Switch light and dark",
            show=False,
        ),
    ]
    # Below 80 columns or 24 rows the screens switch to a narrow / short layout (wizard.tcss).
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (80, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (24, "-tall")]

    def __init__(
        self,
        machine_source: Callable[[], Machine] | None = None,
        choices: Choices | None = None,
        *,
        machine: Machine | None = None,
        dry_run: bool = False,
        runner_factory: RunnerFactory | None = None,
        explorer: Callable[[Machine, Choices], Options] | None = None,
        planner: Callable[[Machine, Choices], Plan] | None = None,
        state_dir: str | os.PathLike[str] | None = None,
        save_dir: str | os.PathLike[str] | None = None,
        screenshot_dir: str | os.PathLike[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        show_timings: bool = True,
        path_aliases: Mapping[str, str] | None = None,
        theme: str | None = None,
        settings_dir: str | os.PathLike[str] | None = None,
        venv_note: str = "",
    ) -> None:
        super().__init__()
        if machine_source is None and machine is None:
            raise ValueError("give a machine_source or a machine")
        from torch_wizard.plan import explore, make_plan

        self.machine_source = machine_source or _fixed(machine)
        self.state = WizardState(choices=choices or Choices(), machine=machine)
        self.dry_run = dry_run
        self.runner_factory = runner_factory or real_runner(state_dir)
        self.explorer = explorer or explore
        self.planner = planner or make_plan
        self.save_dir = Path(save_dir) if save_dir else Path.cwd()
        self.screenshot_dir = Path(screenshot_dir) if screenshot_dir else self.save_dir
        self.clock = clock
        self.show_timings = show_timings
        self.path_aliases = dict(path_aliases or {})
        self.error_message = ""
        self.last_saved = ""
        self.result: Any = None  # the RunResult of the last run
        self._runner: RunnerLike | None = None
        self._quit_after_run = False
        self.handle_signals = False
        self._hooked: list[int] = []
        self._hung_up = False
        # Leaving mid-run: why (``quit``, ``SIGTERM``...) and the Finished of the run that was
        # stopped; the ``ui`` command prints them once the terminal is back (``exit_lines``).
        self.stop_reason = ""
        self.interrupted: Finished | None = None
        # Why the default venv is not ``.venv`` here (it is the wizard's own): the Choices says it.
        self.venv_note = venv_note
        self.overrides: dict[str, str] = {}  # the Advanced GPU facts, on top of the detected
        self.planning_machine: Machine | None = None
        from torch_wizard.ui import settings

        self.settings_path = settings.settings_path(settings_dir)
        self._explicit_theme = theme
        # The remembered theme is read and written only in a real terminal (``use_settings``,
        # called by ``attach_terminal``), so tests never touch the user's config.
        self.remember_theme = False
        self._theme_ready = False  # the first theme is not a choice to remember
        self.theme = theme or settings.initial_theme(frozenset(self.available_themes), {})

    # -- the flow ------------------------------------------------------------------------------
    def on_mount(self) -> None:
        self._theme_ready = True
        if self.handle_signals:
            loop = asyncio.get_running_loop()
            for sig in EXIT_SIGNALS:
                with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                    loop.add_signal_handler(sig, self.stop_for_signal, sig)
                    self._hooked.append(sig)
        self.run_flow()

    def on_unmount(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in self._hooked:
            loop.remove_signal_handler(sig)
        self._hooked.clear()

    def attach_terminal(self) -> None:
        """Set up for a real terminal (the ``ui`` command; Pilot never calls it): the exit
        signals cancel a run, and on Linux a driver that survives the terminal closing."""
        self.handle_signals = True
        self.use_settings()
        if os.name == "posix":
            from textual.drivers.linux_driver import LinuxDriver

            from torch_wizard.ui.terminal import HangupSafeDriver

            if self.driver_class is LinuxDriver:  # not one chosen with TEXTUAL_DRIVER
                self.driver_class = HangupSafeDriver

    def use_settings(self) -> None:
        """Start with the theme remembered in ``ui.json`` (unless TEXTUAL_THEME or the caller
        chose one) and remember the user's next choice there."""
        from torch_wizard.ui import settings

        if self._explicit_theme is not None:
            return
        self.remember_theme = True
        self.theme = settings.initial_theme(
            frozenset(self.available_themes), settings.load(self.settings_path)
        )

    def _screen(self, step: str, steps: tuple[str, ...], message: str) -> WizardScreen[Any]:
        state = self.state
        if step == "machine":
            from torch_wizard.ui.screens.machine import MachineScreen

            return MachineScreen(steps, self.machine_source, state.machine, self.detection_failed)
        if state.machine is None:
            raise RuntimeError(f"the {step} step needs a machine")
        if step == "choices":
            from torch_wizard.ui.screens.blocker import BlockerScreen
            from torch_wizard.ui.screens.choices import ChoicesScreen, platform_blocked

            options = self.explorer(state.machine, state.choices)
            if platform_blocked(options):
                return BlockerScreen(steps, state.machine, options.error)
            return ChoicesScreen(
                steps,
                state.machine,
                state.choices,
                self.explorer,
                self.planner,
                message,
                overrides=self.overrides,
                note=self.venv_note,
            )
        if step == "source":
            from torch_wizard.ui.screens.source import SourceScreen

            return SourceScreen(steps, state.choices.source)
        if state.plan is None:
            raise RuntimeError(f"the {step} step needs a plan")
        if step == "preview":
            from torch_wizard.ui.screens.preview import PreviewScreen

            return PreviewScreen(steps, state.plan, self.dry_run)
        if step == "run":
            from torch_wizard.ui.screens.run import RunScreen

            return RunScreen(
                steps,
                state.plan,
                self.start_install,
                self.cancel_install,
                self.clock,
                self.show_timings,
                self.display_text,
            )
        from torch_wizard.ui.screens.done import DoneScreen

        return DoneScreen(
            steps, self.result, self.display_path, self.show_timings, self.display_text
        )

    @work(exclusive=True, group="flow", exit_on_error=True, description="wizard flow")
    async def run_flow(self) -> None:
        step = "machine"
        message = ""
        while True:
            steps = flow_steps(self.state.choices.build, self.dry_run)
            screen = self._screen(step, steps, message)
            result = await self.push_screen_wait(screen)
            message = ""
            if isinstance(result, Cancel):
                self.finish(self.quit_code())
                return
            if isinstance(result, Back):
                step = "preview" if step == "done" else steps[max(0, steps.index(step) - 1)]
                continue
            value = result.value
            if step == "machine":
                if value is not self.state.machine:  # detected again: start from it
                    self.planning_machine = None
                self.state = replace(self.state, machine=value)
            elif step == "choices":
                # The planner plans for the machine the Choices step showed: the Advanced GPU
                # facts applied, the free disk measured where the venv goes.
                self.overrides = dict(getattr(screen, "overrides", {}))
                self.planning_machine = getattr(screen, "machine", self.state.machine)
                self.state = replace(self.state, choices=value)
            elif step == "source":
                choices = replace(self.state.choices, source=value)
                self.state = replace(self.state, choices=choices)
            elif step == "preview" and value == "quit":
                self.finish(self.quit_code())
                return
            elif step == "run":
                self.result = value
            elif step == "done":
                self.finish(self.quit_code())
                return
            steps = flow_steps(self.state.choices.build, self.dry_run)
            step = steps[steps.index(step) + 1]
            if step == "preview" and self.state.machine is not None:
                try:
                    plan = self.planner(
                        self.planning_machine or self.state.machine, self.state.choices
                    )
                except UsageError as err:
                    message = str(err)
                    step = "choices"
                    continue
                self.state = replace(self.state, plan=plan)

    def finish(self, code: int) -> None:
        """Leave with ``code`` as both the app's result and the process exit status."""
        self.exit(code, return_code=code)

    def quit_code(self) -> int:
        """The exit status for leaving now: 0 before any run, else the last run's (so quitting
        after a cancelled run exits 130 and after a failed one 1, as ``install`` would)."""
        return 0 if self.result is None else run_exit_code(self.result.finished)

    def detection_failed(self, err: WizardError) -> None:
        """A bad --profile or --root: one line on stderr after the app closes, exit 2."""
        self.error_message = str(err)
        self.finish(2)

    # -- the install ---------------------------------------------------------------------------
    def start_install(self, screen: Any) -> None:
        self._install(screen)

    @work(exclusive=True, group="install", exit_on_error=False, description="install")
    async def _install(self, screen: Any) -> None:
        runner = self.runner_factory(screen.plan)
        self._runner = runner
        finished = False
        events = runner.events()
        try:
            async for event in events:
                if isinstance(event, Finished):
                    finished = True
                    self._runner = None
                    if self._quit_after_run:
                        self.interrupted = event
                        break  # leaving: no Done screen
                screen.handle(event)
        finally:
            # Leaving early (the app exits, the worker is cancelled): stop the children and let the
            # runner reap them before this coroutine ends, so no process outlives the app.
            if not finished:
                runner.cancel(force=True)
            aclose = getattr(events, "aclose", None)
            if aclose is not None:
                await aclose()
            self._runner = None
        if self._quit_after_run:
            # The run ended (its children are gone): leave with its outcome, which is "ok" only
            # when it finished before the cancel reached it.
            fin = self.interrupted
            self.finish(CANCELLED if fin is None else run_exit_code(fin))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        worker = event.worker
        if worker.group == "install" and event.state == WorkerState.ERROR:
            if self._quit_after_run:  # leaving anyway: the runner broke while it stopped
                self.finish(CANCELLED)
                return
            from torch_wizard.ui.screens.run import RunScreen

            screen = self.flow_screen  # the Run step, even under a help or a question
            message = f"The runner stopped with an error: {worker.error}"
            if isinstance(screen, RunScreen) and screen.finished is None:
                screen.handle(Finished("failed", message))
            else:
                self.notify(message, severity="error", markup=False)

    def cancel_install(self) -> None:
        if self._runner is not None:
            self._runner.cancel()

    @property
    def installing(self) -> bool:
        return self._runner is not None

    def stop_for_signal(self, signum: int) -> None:
        """SIGHUP/SIGTERM/SIGINT: leave like a confirmed quit. A running plan is cancelled and
        the app leaves once the runner has stopped its children (a second signal skips the grace
        period); with nothing running it leaves at once. The exit status is 130 (the run's own,
        should it finish before the cancel reaches it)."""
        hangup = signum == getattr(signal, "SIGHUP", None)
        if hangup:
            if self._hung_up:  # told already (the input thread saw it first): not a second signal
                return
            self._hung_up = True
        name = signal.Signals(signum).name
        if self._runner is not None:
            if self._quit_after_run:
                self._runner.cancel(force=True)
                return
            self.stop_reason = name
            self._quit_after_run = True
            self._runner.cancel()
            return
        if not self.stop_reason:
            self.stop_reason = name
        self.finish(CANCELLED)

    def terminal_closed(self) -> None:
        """The driver's input thread found the terminal gone: as SIGHUP (which is on its way)."""
        self.stop_for_signal(getattr(signal, "SIGHUP", signal.SIGTERM))

    def exit_lines(self) -> list[str]:
        """What to tell the terminal after leaving mid-run: what happened, the venv, the log."""
        f = self.interrupted
        why = f" ({self.stop_reason})" if self.stop_reason else ""
        if f is None:
            return [f"stopped by {self.stop_reason}; nothing was running"] if why else []
        lines = [f"{f.message}{why}"]
        if f.venv_note:
            lines.append(f.venv_note)
        if f.log_path:
            lines.append(f"log: {f.log_path}")
        if f.receipt_path:
            lines.append(f"receipt: {f.receipt_path}")
        return lines

    async def action_quit(self) -> None:
        if not self.installing:
            self.finish(self.quit_code())
            return
        if self._quit_after_run:  # asked twice while stopping: skip the grace period
            if self._runner is not None:
                self._runner.cancel(force=True)
            return
        from torch_wizard.ui.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if not yes or self._quit_after_run:
                return
            if not self.installing:  # the run ended while the question was up
                self.finish(self.quit_code())
                return
            self.stop_reason = "quit"
            self._quit_after_run = True
            self.cancel_install()

        self.push_screen(
            ConfirmScreen(
                "Stop the install and quit?",
                "The running step is stopped and the log is kept.",
                yes="Stop and quit",
                no="Keep running",
            ),
            answered,
        )

    # -- plan actions (preview bindings and the command palette) -------------------------------
    @property
    def flow_screen(self) -> Screen[Any] | None:
        """The step on top of the stack, under any palette, help or question on top of it (while
        the palette is open, ``self.screen`` is the palette)."""
        for screen in reversed(self.screen_stack):
            if isinstance(screen, WizardScreen):
                return screen
        return None

    @property
    def plan(self) -> Plan | None:
        return self.state.plan if self._on_plan_screen() else None

    def _on_plan_screen(self) -> bool:
        return type(self.flow_screen).__name__ in ("PreviewScreen", "DoneScreen", "RunScreen")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("copy_commands", "save_plan", "save_answers") and self.plan is None:
            return False
        if action == "save_plan" and parameters == ("ps1",):
            plan = self.plan
            return plan is not None and plan.target.os.name == "windows"
        return True

    def commands_text(self, plan: Plan) -> str:
        from torch_wizard.plan.render import command_line, render

        if plan.target.os.name == "windows":
            return render(plan, "ps1")
        return "\n".join(command_line(step) for step in plan.steps) + "\n"

    def action_copy_commands(self) -> None:
        plan = self.plan
        if plan is None:
            return
        self.copy_to_clipboard(self.commands_text(plan))
        self.notify(
            f"Copied {len(plan.steps)} commands. If your terminal ignores clipboard requests, "
            "save a script instead.",
            markup=False,
        )

    SAVE_NAMES: ClassVar[dict[str, tuple[str, str]]] = {
        "sh": ("torch-wizard-plan.sh", "the shell script"),
        "ps1": ("torch-wizard-plan.ps1", "the PowerShell script"),
        "json": ("torch-wizard-plan.json", "the plan (JSON)"),
        "text": ("torch-wizard-plan.txt", "the plan (text)"),
        "answers": ("torch-wizard-answers.toml", "the answers (TOML, for --config)"),
        "requirements": ("requirements-torch.txt", "the requirements file (pip/uv -r)"),
        "pyproject": ("pyproject-torch.toml", "the [tool.uv] tables for pyproject.toml"),
    }

    def action_save_plan(self, fmt: str) -> None:
        from torch_wizard.plan.render import render
        from torch_wizard.ui.state import answers_toml

        plan = self.plan
        if plan is None:
            return
        name, what = self.SAVE_NAMES[fmt]
        if fmt in ("requirements", "pyproject"):
            from torch_wizard.errors import UsageError
            from torch_wizard.plan.project import plan_export

            try:
                text = plan_export(plan, fmt)
            except UsageError as err:
                self.notify(str(err), severity="error", markup=False)
                return
        else:
            text = answers_toml(self.state.choices) if fmt == "answers" else render(plan, fmt)
        self.save_text(what, self.save_dir / name, text, executable=fmt == "sh")

    def action_save_answers(self) -> None:
        self.action_save_plan("answers")

    def save_text(self, what: str, default: Path, text: str, *, executable: bool = False) -> None:
        """Ask where (``default`` shown), confirm replacing a file, write, and say the full path."""
        from torch_wizard.ui.screens.save import SaveScreen

        def chosen(path: str | None) -> None:
            if not path:
                return
            target = Path(path)
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(text, encoding="utf-8", newline="")
                if executable:
                    target.chmod(0o755)
            except OSError as err:
                self.notify(
                    f"Could not save {self.display_path(path)}: {err.strerror}",
                    severity="error",
                    markup=False,
                )
                return
            self.last_saved = path
            self.notify(f"Saved {what}:\n{self.display_path(path)}", markup=False)

        self.push_screen(SaveScreen(what, self.display_path(str(default))), chosen)

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        """Take the picture now (of the screen as it is), then ask where to put it; a filename
        or path given by a caller (a script) skips the question."""
        folder = Path(path) if path else self.screenshot_dir
        flow = self.flow_screen
        name = type(flow).__name__.removesuffix("Screen").lower() if flow else "screen"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        if filename or path:
            folder.mkdir(parents=True, exist_ok=True)
            saved = self.save_screenshot(
                filename or f"torch-wizard-{name}-{stamp}.svg", str(folder)
            )
            self.notify(f"Saved the screenshot:\n{self.display_path(saved)}", markup=False)
            return
        svg = self.export_screenshot()
        self.save_text("a screenshot (SVG)", folder / f"torch-wizard-{name}-{stamp}.svg", svg)

    def action_toggle_theme(self) -> None:
        self.theme = THEMES[1] if self.theme == THEMES[0] else THEMES[0]

    def watch_theme(self, name: str) -> None:
        if self._theme_ready and self.remember_theme:
            from torch_wizard.ui import settings

            problem = settings.save(self.settings_path, theme=name)
            if problem:
                self.remember_theme = False  # said once
                self.notify(problem, severity="warning", markup=False)

    def action_help(self) -> None:
        from torch_wizard.ui.screens.help import HelpScreen

        if isinstance(self.screen, HelpScreen):
            return
        under = self.screen
        flow = self.flow_screen
        title = getattr(flow, "help_title", "") or type(under).__name__.removesuffix("Screen")
        self.push_screen(HelpScreen(under, title))

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        for command in super().get_system_commands(screen):
            if command.title not in ("Screenshot", "Keys"):  # ours below: asks where, lists all
                yield command
        yield SystemCommand("Keys (help)", "Every key of this screen (F1 or ?)", self.action_help)
        if self.plan is not None:
            plan = self.plan
            yield SystemCommand(
                "Copy commands", "Copy the plan's commands", self.action_copy_commands
            )
            yield SystemCommand(
                "Save shell script",
                "Save the commands as a shell script (asks where)",
                lambda: self.action_save_plan("sh"),
            )
            if plan.target.os.name == "windows":
                yield SystemCommand(
                    "Save PowerShell script",
                    "Save the commands as a PowerShell script (asks where)",
                    lambda: self.action_save_plan("ps1"),
                )
            yield SystemCommand(
                "Save plan JSON",
                "Save the plan for 'torch-wizard install --plan FILE' (asks where)",
                lambda: self.action_save_plan("json"),
            )
            yield SystemCommand(
                "Export requirements file",
                "The plan's index line and pins for 'pip install -r' / 'uv pip install -r'",
                lambda: self.action_save_plan("requirements"),
            )
            yield SystemCommand(
                "Export pyproject tables",
                "[[tool.uv.index]] and [tool.uv.sources] for a uv project (asks where)",
                lambda: self.action_save_plan("pyproject"),
            )
            yield SystemCommand(
                "Save answers (TOML)",
                "Save these choices for 'torch-wizard plan --config FILE' on any machine",
                self.action_save_answers,
            )
        yield SystemCommand(
            "Save screenshot (SVG)",
            "Save this screen as an SVG picture (asks where; also F8)",
            self.action_screenshot,
        )

    def display_text(self, text: str) -> str:
        """``text`` with every aliased path prefix shown as its alias (a step title, a sentence)."""
        for prefix, alias in self.path_aliases.items():
            text = text.replace(prefix, alias)
        return text

    def display_path(self, path: str) -> str:
        for prefix, alias in self.path_aliases.items():
            if path.startswith(prefix):
                return alias + path[len(prefix) :]
        home = os.path.expanduser("~")
        if home not in ("", "/") and path.startswith(home + os.sep):
            return "~" + path[len(home) :]
        return path
