"""Step 4: run the plan. The install worker lives on the App; this screen only shows its events."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Button, Footer, Label, Log, ProgressBar, Static

from wizard.plan.model import Plan
from wizard.run.events import (
    Event,
    Finished,
    Notice,
    Output,
    Progress,
    StepFinished,
    StepStarted,
)
from wizard.ui.screens.base import WizardScreen
from wizard.ui.state import Next, fmt_duration, progress_text, run_heading
from wizard.ui.widgets import NavBar, StepBar, nav_button

LOG_MAX_LINES = 5000  # the screen keeps the last lines; the full log is on disk

ICONS = {
    "pending": ("○", "$text-muted"),
    "running": ("▶", "bold $text-accent"),
    "ok": ("✓", "bold $text-success"),
    "failed": ("✗", "bold $text-error"),
    "cancelled": ("■", "$text-warning"),
}


@dataclass(frozen=True)
class RunResult:
    finished: Finished
    plan: Plan


def step_line(n: int, title: str, status: str, elapsed: str) -> Content:
    icon, style = ICONS[status]
    tail = f"  {elapsed}" if elapsed else ""
    return Content.assemble((f"{icon} ", style), f"{n}. {title}", (tail, "$text-muted"))


class RunScreen(WizardScreen[RunResult]):
    step_name = "run"
    can_go_back = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "noop", show=False, priority=True),
        Binding("escape", "cancel_run", "Cancel", id="cancel", tooltip="Stop the install"),
    ]

    def __init__(
        self,
        steps: tuple[str, ...],
        plan: Plan,
        start: Callable[[RunScreen], None],
        request_cancel: Callable[[], None],
        clock: Callable[[], float],
        show_timings: bool = True,
        display_text: Callable[[str], str] = str,
    ) -> None:
        super().__init__(steps)
        self.display_text = display_text
        self.plan = plan
        self.start = start
        self.request_cancel = request_cancel
        self.clock = clock
        self.show_timings = show_timings
        self.status = ["pending"] * len(plan.steps)
        self.started_at: dict[int, float] = {}
        self.durations: dict[int, float] = {}
        self.finished: Finished | None = None
        self.cancel_requested = False
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield StepBar(self.steps, self.step_name)
        yield Static(self.display_text(run_heading(self.plan)), id="run-summary", markup=False)
        with Vertical(id="step-list"):
            for n, step in enumerate(self.plan.steps):
                yield Static(
                    step_line(n + 1, self.display_text(step.title), "pending", ""),
                    id=f"step-{n}",
                    markup=False,
                )
        with Horizontal(id="progress-row"):
            yield ProgressBar(id="progress", show_eta=False)
            yield Label("", id="progress-label", markup=False)
        yield Log(id="log", max_lines=LOG_MAX_LINES, auto_scroll=True)
        yield NavBar([nav_button("Cancel", "cancel-run")])
        yield Footer()

    def on_mount(self) -> None:
        self.query_one("#progress-row").display = False
        if self.show_timings:
            self._timer = self.set_interval(1.0, self._tick)
        self.start(self)

    # -- events from the install worker -----------------------------------------------------------
    def handle(self, event: Event) -> None:
        if isinstance(event, StepStarted):
            self.status[event.index] = "running"
            self.started_at[event.index] = self.clock()
            self._render_step(event.index)
            self.query_one("#progress-row").display = False
            self.query_one(Log).write_line(f"$ {self.display_text(event.step.title)}")
        elif isinstance(event, Output):
            self.query_one(Log).write_lines(event.lines)
        elif isinstance(event, Progress):
            self._progress(event)
        elif isinstance(event, StepFinished):
            self.status[event.index] = "ok" if event.returncode == 0 else "failed"
            self.durations[event.index] = event.duration
            self._render_step(event.index)
        elif isinstance(event, Notice):
            self.query_one(Log).write_line(f"torch-wizard: {event.text}")
        elif isinstance(event, Finished):
            self.finish(event)

    def _progress(self, event: Progress) -> None:
        row = self.query_one("#progress-row")
        row.display = True
        bar = self.query_one(ProgressBar)
        bar.update(total=event.total or None, progress=event.done)
        label = progress_text(event.label, event.done, event.total)
        self.query_one("#progress-label", Label).update(label)

    def _render_step(self, index: int) -> None:
        elapsed = ""
        if self.show_timings:
            if index in self.durations:
                elapsed = fmt_duration(self.durations[index])
            elif index in self.started_at:
                elapsed = fmt_duration(self.clock() - self.started_at[index])
        title = self.display_text(self.plan.steps[index].title)
        self.query_one(f"#step-{index}", Static).update(
            step_line(index + 1, title, self.status[index], elapsed)
        )

    def _tick(self) -> None:
        for index, status in enumerate(self.status):
            if status == "running":
                self._render_step(index)

    def finish(self, finished: Finished) -> None:
        self.finished = finished
        if finished.outcome == "cancelled":
            for index, status in enumerate(self.status):
                if status in ("running", "pending"):
                    self.status[index] = "cancelled"
                    self._render_step(index)
        if self._timer is not None:
            self._timer.stop()
        self.refresh_bindings()
        self.dismiss(Next(RunResult(finished, self.plan)))

    # -- cancel ------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_run" and (self.finished is not None or self.cancel_requested):
            return None
        return super().check_action(action, parameters)

    def action_noop(self) -> None:
        """Enter does nothing while the plan runs."""

    def action_cancel_run(self) -> None:
        from wizard.ui.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes and self.finished is None:
                self.cancel_requested = True
                self.query_one(Log).write_line("Cancelling: stopping the running step…")
                self.refresh_bindings()
                self.request_cancel()

        self.app.push_screen(
            ConfirmScreen(
                "Cancel the install?",
                "The running step is stopped; the venv may be left half installed. "
                "The log keeps everything so far.",
                yes="Cancel install",
                no="Keep running",
            ),
            answered,
        )

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel-run":
            event.stop()
            self.action_cancel_run()

    def next_value(self) -> RunResult | None:
        return None
