"""Step 1: the detected machine. Detection runs in a thread worker after the first paint."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Container, Vertical, VerticalScroll
from textual.content import Content
from textual.widgets import LoadingIndicator, Static
from textual.worker import get_current_worker

from torch_wizard.errors import WizardError
from torch_wizard.machine.model import Machine
from torch_wizard.ui.screens.base import WizardScreen
from torch_wizard.ui.state import (
    Verdict,
    machine_rows,
    machine_verdict,
    machine_warnings,
    screen_words,
)
from torch_wizard.ui.widgets import NavBar, StepBar, WizardFooter, nav_button


def profile_widgets(machine: Machine) -> list[Static]:
    """Label and value cells for the profile grid (values wrap inside their column)."""
    cells: list[Static] = []
    for label, value in machine_rows(machine):
        cells.append(Static(label, classes="label", markup=False))
        cells.append(Static(value, classes="value", markup=False))
    return cells


VERDICT_MARKS = {
    "gpu": ("✓ ", "bold $text-success"),
    "cpu": ("• ", "bold $text-primary"),
    "warn": ("! ", "bold $text-warning"),
}


def verdict_content(verdict: Verdict) -> Content:
    mark, style = VERDICT_MARKS.get(verdict.level, VERDICT_MARKS["cpu"])
    return Content.assemble((mark, style), (verdict.text, "bold"))


def notes_content(machine: Machine) -> Content:
    """Warnings about the machine itself (RAM, disk, CPU), then what probing ran into."""
    from torch_wizard.catalog.core import age_note

    lines: list[Content] = []
    warnings = machine_warnings(machine)
    note = age_note()  # the bundled catalog past 120 days: how to check it
    if note:
        warnings.append(note[0].upper() + note[1:] + ".")
    if warnings:
        lines.append(Content.styled("Worth knowing:", "bold"))
        lines += [Content.assemble(("! ", "bold $text-warning"), w) for w in warnings]
    if machine.notes:
        lines.append(Content.styled("Found while probing:", "bold"))
        lines += [
            Content.assemble(("! ", "bold $text-warning"), screen_words(note))
            for note in machine.notes
        ]
    return Content("\n").join(lines)


class MachineScreen(WizardScreen[Machine]):
    step_name = "machine"
    can_go_back = False

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "redetect", "Detect again", id="redetect", tooltip="Probe the machine again"),
    ]

    def __init__(
        self,
        steps: tuple[str, ...],
        source: Callable[[], Machine],
        machine: Machine | None = None,
        on_error: Callable[[WizardError], None] | None = None,
    ) -> None:
        super().__init__(steps)
        self.source = source
        self.machine = machine
        self.on_error = on_error

    def compose(self) -> ComposeResult:
        yield StepBar(self.steps, self.step_name)
        with Vertical(id="detecting"):
            yield LoadingIndicator()
            yield Static(
                "Detecting this machine: OS, Python, CPU, GPUs and drivers…", id="detecting-label"
            )
        with VerticalScroll(id="machine-body", can_focus=True):
            yield Static(id="verdict")
            yield Container(id="machine-profile")
            yield Static(id="notes", markup=False)
            yield Static(id="driver-advice", markup=False)
        yield NavBar([nav_button("Next", "next", primary=True, disabled=True)])
        yield WizardFooter()

    def on_mount(self) -> None:
        if self.machine is None:
            self.detect()
        else:
            self.show_machine(self.machine)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("next", "redetect") and self.machine is None:
            return None
        return super().check_action(action, parameters)

    def action_redetect(self) -> None:
        self.machine = None
        self.detect()

    def set_detecting(self, detecting: bool) -> None:
        self.query_one("#detecting").display = detecting
        self.query_one("#machine-body").display = not detecting
        self.query_one("#next").disabled = detecting
        self.refresh_bindings()

    @work(thread=True, exclusive=True, group="detect", exit_on_error=False, description="detect")
    def detect(self) -> None:
        """Probe in a thread: a slow or hung tool (bounded by its own timeout) never blocks the UI."""
        self.app.call_from_thread(self.set_detecting, True)
        try:
            machine = self.source()
        except WizardError as err:
            if not get_current_worker().is_cancelled:
                self.app.call_from_thread(self.detection_failed, err)
            return
        if not get_current_worker().is_cancelled:
            self.app.call_from_thread(self.show_machine, machine)

    def detection_failed(self, err: WizardError) -> None:
        self.query_one("#detecting-label", Static).update(
            Content.assemble(("Detection failed: ", "bold $text-error"), str(err))
        )
        self.query_one(LoadingIndicator).display = False
        if self.on_error is not None:
            self.on_error(err)

    def show_machine(self, machine: Machine) -> None:
        self.machine = machine
        self.query_one("#verdict", Static).update(verdict_content(machine_verdict(machine)))
        profile = self.query_one("#machine-profile", Container)
        profile.remove_children()
        profile.mount_all(profile_widgets(machine))
        notes = self.query_one("#notes", Static)
        content = notes_content(machine)
        notes.display = bool(content.plain)
        notes.update(content)
        from torch_wizard.plan.advice import driver_advice

        advice = driver_advice(machine)  # which driver would let PyTorch use the GPU (issue 11)
        box = self.query_one("#driver-advice", Static)
        box.display = bool(advice)
        box.update(Content("\n").join([Content.styled("GPUs:", "bold"), *map(Content, advice)]))
        self.set_detecting(False)
        self.query_one("#machine-body").focus()

    def next_value(self) -> Machine | None:
        return self.machine
