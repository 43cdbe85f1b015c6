"""Step 4: run the plan. The install worker lives on the App; this screen only shows its events."""

from __future__ import annotations

import textwrap
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.timer import Timer
from textual.widgets import Button, Input, Label, Log, ProgressBar, Static

from torch_wizard.plan.model import Plan
from torch_wizard.run.events import (
    Event,
    Finished,
    Notice,
    Output,
    Progress,
    StepFinished,
    StepStarted,
)
from torch_wizard.ui.screens.base import WizardScreen
from torch_wizard.ui.state import (
    Next,
    fmt_duration,
    phase_of,
    progress_text,
    rate_text,
    run_heading,
)
from torch_wizard.ui.widgets import NavBar, StepBar, WizardFooter, nav_button

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


class RunLog(Log):
    """The Log, keeping what it was given so that it can show it wrapped (w) or not, and find
    text in it (/)."""

    def __init__(self, **kw: Any) -> None:
        super().__init__(**kw)
        self.raw: deque[str] = deque(maxlen=LOG_MAX_LINES)
        self.wrap = True  # long pip lines would otherwise scroll sideways at 80 columns
        self._wrapped_width = 0

    def _wrap_width(self) -> int:
        return max(20, self.scrollable_content_region.width - 1)

    def _shape(self, lines: Iterable[str]) -> list[str]:
        if not self.wrap:
            return list(lines)
        width = self._wrap_width()
        out: list[str] = []
        for line in lines:
            out.extend(textwrap.wrap(line, width, subsequent_indent="  ") or [""])
        return out

    def add_lines(self, lines: Iterable[str]) -> None:
        lines = list(lines)
        self.raw.extend(lines)
        self.write_lines(self._shape(lines))

    def add_line(self, line: str) -> None:
        self.add_lines([line])

    def set_wrap(self, wrap: bool) -> None:
        self.wrap = wrap
        self.set_class(wrap, "-wrap")
        self.redraw()

    def on_mount(self) -> None:
        self.set_class(self.wrap, "-wrap")

    def redraw(self) -> None:
        follow = self.is_vertical_scroll_end or self.max_scroll_y == 0
        self.clear()
        self._wrapped_width = self._wrap_width()
        self.write_lines(self._shape(self.raw), scroll_end=follow)
        if follow:  # once the new lines are measured, still at the end
            self.call_after_refresh(self.scroll_end, animate=False)

    def on_resize(self) -> None:
        if self.wrap and self._wrapped_width != self._wrap_width():
            self.redraw()

    def find(self, text: str, after: int) -> int:
        """The index (in the shown lines) of the next line after ``after`` containing ``text``
        (case-insensitive, wrapping round), or -1."""
        needle = text.lower()
        lines = self.lines
        n = len(lines)
        for k in range(1, n + 1):
            i = (after + k) % n
            if needle in lines[i].lower():
                return i
        return -1


class RunScreen(WizardScreen[RunResult]):
    step_name = "run"
    can_go_back = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "noop", show=False, priority=True),
        Binding("escape", "cancel_run", "Cancel", id="cancel", tooltip="Stop the install"),
        Binding("w", "toggle_wrap", "Wrap", id="wrap", tooltip="Wrap long log lines, or not"),
        Binding("slash", "search", "Find", id="find", tooltip="Find text in the log"),
        Binding("n", "find_next", "Next match", id="find-next", show=False),
        Binding("f", "follow", "Follow", id="follow", tooltip="Jump to the end and follow"),
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
        self.phase = ""
        self.current = -1  # the running step
        self._samples: list[tuple[float, int]] = []
        self._sample_label = ""
        self._progress_text = ""
        self.search_text = ""
        self.match = -1

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
            yield Label("", id="phase", markup=False)
            yield ProgressBar(id="progress", show_eta=False)
            yield Label("", id="progress-label", markup=False)
        yield RunLog(id="log", max_lines=LOG_MAX_LINES, auto_scroll=True)
        with Horizontal(id="log-bar"):
            yield Label("", id="follow-state", markup=False)
            yield Input(
                placeholder="find in the log (Enter: next match, Esc: close)",
                id="find",
                compact=True,
            )
        yield NavBar([nav_button("Cancel", "cancel-run")])
        yield WizardFooter()

    def on_mount(self) -> None:
        self.query_one("#progress-row").display = False
        self.query_one("#find", Input).display = False
        if self.show_timings:
            self._timer = self.set_interval(1.0, self._tick)
        self.set_interval(0.25, self._show_follow)
        self._show_follow()
        self.start(self)

    @property
    def log_view(self) -> RunLog:
        return self.query_one(RunLog)

    def _show_follow(self) -> None:
        log = self.log_view
        # within a line of the end: Log measures new lines in a worker, so its scroll to the
        # end can trail the newest line by one until the next write
        following = log.scroll_y >= log.max_scroll_y - 1
        wrap = "wrapped (w)" if log.wrap else "not wrapped (w)"
        state = "following" if following else "paused, scrolled up (f follows)"
        find = ""
        if self.search_text:
            find = f" · find {self.search_text!r}"
            if self.match >= 0:
                find += f": line {self.match + 1} of {len(log.lines)} has it (n: next)"
        self.query_one("#follow-state", Label).update(f"Log {state} · lines {wrap}{find}")

    def _set_phase(self, phase: str) -> None:
        if phase == self.phase:
            return
        self.phase = phase
        label = self.query_one("#phase", Label)
        label.update(phase)
        if phase in ("installing", "installed", "verifying", "building", "resolving"):
            # the download figures no longer describe what happens now
            bar = self.query_one(ProgressBar)
            if phase != "building":
                bar.update(total=None)
                self.query_one("#progress-label", Label).update("")
        self.query_one("#progress-row").display = bool(phase)

    # -- events from the install worker -----------------------------------------------------------
    def handle(self, event: Event) -> None:
        if isinstance(event, StepStarted):
            self.status[event.index] = "running"
            self.current = event.index
            self.started_at[event.index] = self.clock()
            self._render_step(event.index)
            self.query_one("#progress-row").display = False
            self.query_one(ProgressBar).update(total=None, progress=0)
            self.query_one("#progress-label", Label).update("")
            self.phase = ""
            self._set_phase(phase_of(event.step.id, "", ""))
            self.log_view.add_line(f"$ {self.display_text(event.step.title)}")
        elif isinstance(event, Output):
            self.log_view.add_lines(event.lines)
            step_id = self.plan.steps[self.current].id if self.current >= 0 else ""
            phase = self.phase
            for line in event.lines:
                phase = phase_of(step_id, line, phase)
            self._set_phase(phase)
        elif isinstance(event, Progress):
            self._progress(event)
        elif isinstance(event, StepFinished):
            self.status[event.index] = "ok" if event.returncode == 0 else "failed"
            self.durations[event.index] = event.duration
            self._render_step(event.index)
        elif isinstance(event, Notice):
            self.log_view.add_line(f"torch-wizard: {event.text}")
        elif isinstance(event, Finished):
            self.finish(event)

    def _progress(self, event: Progress) -> None:
        if event.label != "build":
            if self.phase in ("installing", "installed", "verifying"):
                return  # a late progress line (read with a batch before it): the download is over
            self._set_phase("downloading")
        row = self.query_one("#progress-row")
        row.display = True
        bar = self.query_one(ProgressBar)
        bar.update(total=event.total or None, progress=event.done)
        label = progress_text(event.label, event.done, event.total)
        if event.label != self._sample_label:
            self._sample_label, self._samples = event.label, []
        self._samples = [*self._samples[-19:], (self.clock(), event.done)]
        if self.show_timings and event.label != "build":
            rate = rate_text(self._samples, event.total)
            if rate:
                label += f"  {rate}"
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
        # A help, palette or question left open over the run would be what dismiss pops.
        while self.app.screen is not self and self in self.app.screen_stack:
            self.app.pop_screen()
        self.dismiss(Next(RunResult(finished, self.plan)))

    # -- cancel ------------------------------------------------------------------------------------
    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "cancel_run" and (self.finished is not None or self.cancel_requested):
            return None
        return super().check_action(action, parameters)

    async def action_noop(self) -> None:
        """Enter does nothing while the plan runs (in the find field it finds)."""
        box = self.query_one("#find", Input)
        if box.has_focus:
            await box.action_submit()

    def action_cancel_run(self) -> None:
        from torch_wizard.ui.screens.confirm import ConfirmScreen

        def answered(yes: bool | None) -> None:
            if yes and self.finished is None:
                self.cancel_requested = True
                self.log_view.add_line("Cancelling: stopping the running step…")
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

    # -- the log: wrap, find, follow ---------------------------------------------------------------
    def action_toggle_wrap(self) -> None:
        self.log_view.set_wrap(not self.log_view.wrap)
        self._show_follow()

    def action_follow(self) -> None:
        self.log_view.scroll_end(animate=False)
        self._show_follow()

    def action_search(self) -> None:
        box = self.query_one("#find", Input)
        box.display = True
        box.focus()

    def action_find_next(self) -> None:
        if not self.search_text:
            self.action_search()
            return
        log = self.log_view
        found = log.find(self.search_text, self.match)
        if found < 0:
            self.notify(f"{self.search_text!r} is not in the log", severity="warning", markup=False)
            return
        self.match = found
        log.scroll_to(y=max(0, found - 2), animate=False)
        self._show_follow()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "find":
            return
        event.stop()
        self.search_text = event.value.strip()
        self.match = -1
        event.input.display = False
        self.log_view.focus()
        if self.search_text:
            self.action_find_next()

    def on_key(self, event: events.Key) -> None:
        box = self.query_one("#find", Input)
        if event.key == "escape" and box.has_focus:
            event.stop()
            event.prevent_default()
            box.display = False
            self.log_view.focus()

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "cancel-run":
            event.stop()
            self.action_cancel_run()

    def next_value(self) -> RunResult | None:
        return None
