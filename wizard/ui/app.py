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

from wizard.errors import UsageError, WizardError
from wizard.machine.model import Machine
from wizard.plan.model import Choices, Plan
from wizard.plan.recommend import Options
from wizard.run.events import Event, Finished
from wizard.ui.screens.base import WizardScreen
from wizard.ui.state import Back, Cancel, WizardState, flow_steps

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
        from wizard.run.runner import Runner

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
    from wizard.commands.install import exit_code

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
        theme: str = "textual-dark",
    ) -> None:
        super().__init__()
        if machine_source is None and machine is None:
            raise ValueError("give a machine_source or a machine")
        from wizard.plan import explore, make_plan

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
        self.theme = theme

    # -- the flow ------------------------------------------------------------------------------
    def on_mount(self) -> None:
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
        if os.name == "posix":
            from textual.drivers.linux_driver import LinuxDriver

            from wizard.ui.terminal import HangupSafeDriver

            if self.driver_class is LinuxDriver:  # not one chosen with TEXTUAL_DRIVER
                self.driver_class = HangupSafeDriver

    def _screen(self, step: str, steps: tuple[str, ...], message: str) -> WizardScreen[Any]:
        state = self.state
        if step == "machine":
            from wizard.ui.screens.machine import MachineScreen

            return MachineScreen(steps, self.machine_source, state.machine, self.detection_failed)
        if state.machine is None:
            raise RuntimeError(f"the {step} step needs a machine")
        if step == "choices":
            from wizard.ui.screens.choices import ChoicesScreen

            return ChoicesScreen(
                steps, state.machine, state.choices, self.explorer, self.planner, message
            )
        if step == "source":
            from wizard.ui.screens.source import SourceScreen

            return SourceScreen(steps, state.choices.source)
        if state.plan is None:
            raise RuntimeError(f"the {step} step needs a plan")
        if step == "preview":
            from wizard.ui.screens.preview import PreviewScreen

            return PreviewScreen(steps, state.plan, self.dry_run)
        if step == "run":
            from wizard.ui.screens.run import RunScreen

            return RunScreen(
                steps,
                state.plan,
                self.start_install,
                self.cancel_install,
                self.clock,
                self.show_timings,
                self.display_text,
            )
        from wizard.ui.screens.done import DoneScreen

        return DoneScreen(
            steps, self.result, self.display_path, self.show_timings, self.display_text
        )

    @work(exclusive=True, group="flow", exit_on_error=True, description="wizard flow")
    async def run_flow(self) -> None:
        step = "machine"
        message = ""
        while True:
            steps = flow_steps(self.state.choices.build, self.dry_run)
            result = await self.push_screen_wait(self._screen(step, steps, message))
            message = ""
            if isinstance(result, Cancel):
                self.finish(self.quit_code())
                return
            if isinstance(result, Back):
                step = "preview" if step == "done" else steps[max(0, steps.index(step) - 1)]
                continue
            value = result.value
            if step == "machine":
                self.state = replace(self.state, machine=value)
            elif step == "choices":
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
                    plan = self.planner(self.state.machine, self.state.choices)
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
            screen = self.screen
            message = f"The runner stopped with an error: {worker.error}"
            if hasattr(screen, "handle") and getattr(screen, "finished", True) is None:
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
        from wizard.ui.screens.confirm import ConfirmScreen

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
    def plan(self) -> Plan | None:
        return self.state.plan if self._on_plan_screen() else None

    def _on_plan_screen(self) -> bool:
        return type(self.screen).__name__ in ("PreviewScreen", "DoneScreen", "RunScreen")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("copy_commands", "save_plan") and self.plan is None:
            return False
        if action == "save_plan" and parameters == ("ps1",):
            plan = self.plan
            return plan is not None and plan.target.os.name == "windows"
        return True

    def commands_text(self, plan: Plan) -> str:
        from wizard.plan.render import command_line, render

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

    def action_save_plan(self, fmt: str) -> None:
        from wizard.plan.render import render

        plan = self.plan
        if plan is None:
            return
        ext = {"sh": "sh", "ps1": "ps1", "json": "json", "text": "txt"}[fmt]
        path = self.save_dir / f"torch-wizard-plan.{ext}"
        try:
            self.save_dir.mkdir(parents=True, exist_ok=True)
            path.write_text(render(plan, fmt), encoding="utf-8", newline="")
            if fmt == "sh":
                path.chmod(0o755)
        except OSError as err:
            self.notify(f"Could not save {path}: {err.strerror}", severity="error", markup=False)
            return
        self.notify(f"Saved {self.display_path(str(path))}", markup=False)

    def action_screenshot(self, filename: str | None = None, path: str | None = None) -> None:
        folder = Path(path) if path else self.screenshot_dir
        folder.mkdir(parents=True, exist_ok=True)
        name = type(self.screen).__name__.removesuffix("Screen").lower() or "screen"
        stamp = time.strftime("%Y%m%d-%H%M%S")
        saved = self.save_screenshot(filename or f"torch-wizard-{name}-{stamp}.svg", str(folder))
        self.notify(f"Saved {self.display_path(saved)}", markup=False)

    def action_toggle_theme(self) -> None:
        self.theme = THEMES[1] if self.theme == THEMES[0] else THEMES[0]

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        if self.plan is not None:
            plan = self.plan
            yield SystemCommand(
                "Copy commands", "Copy the plan's commands", self.action_copy_commands
            )
            yield SystemCommand(
                "Save shell script",
                f"Write {self.save_dir / 'torch-wizard-plan.sh'}",
                lambda: self.action_save_plan("sh"),
            )
            if plan.target.os.name == "windows":
                yield SystemCommand(
                    "Save PowerShell script",
                    f"Write {self.save_dir / 'torch-wizard-plan.ps1'}",
                    lambda: self.action_save_plan("ps1"),
                )
            yield SystemCommand(
                "Save plan JSON",
                f"Write {self.save_dir / 'torch-wizard-plan.json'}",
                lambda: self.action_save_plan("json"),
            )
        yield SystemCommand(
            "Save screenshot (SVG)",
            f"Save this screen into {self.screenshot_dir}",
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
