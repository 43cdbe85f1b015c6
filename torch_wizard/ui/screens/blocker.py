"""Instead of the Choices step, on a machine no PyTorch build can be installed on (a 32-bit
Python, musl libc): the reason and the fix, Back and Quit, and no Next."""

from __future__ import annotations

from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Button, Static

from torch_wizard.machine.model import Machine
from torch_wizard.ui.screens.base import WizardScreen
from torch_wizard.ui.state import machine_summary, screen_words
from torch_wizard.ui.widgets import NavBar, StepBar, WizardFooter, nav_button


def blocker_parts(error: str) -> tuple[str, str]:
    """ "this Python is 32-bit ..., and PyTorch publishes no 32-bit wheels: install a 64-bit
    Python ..." -> (the reason, the fix), each a sentence; the fix is "" when none is named."""
    reason, sep, fix = error.rpartition(": ")
    if not sep or not fix:
        reason, fix = error, ""

    def sentence(text: str) -> str:
        text = text.strip()
        if not text:
            return ""
        text = text[0].upper() + text[1:]
        return text if text.endswith((".", "!", "?")) else text + "."

    return sentence(reason), sentence(screen_words(fix))


class BlockerScreen(WizardScreen[None]):
    step_name = "choices"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "noop", show=False, priority=True),
        Binding("q", "cancel_wizard", "Quit", id="blocker-quit", tooltip="Leave the wizard"),
    ]

    def __init__(self, steps: tuple[str, ...], machine: Machine, error: str) -> None:
        super().__init__(steps)
        self.machine = machine
        self.reason, self.fix = blocker_parts(error)

    def compose(self) -> ComposeResult:
        yield StepBar(self.steps, self.step_name)
        yield Static(machine_summary(self.machine), id="summary", markup=False)
        with VerticalScroll(id="blocker-body", can_focus=True):
            yield Static(
                Content.styled("✗ PyTorch cannot be installed here", "bold $text-error"),
                id="blocker-title",
            )
            yield Static(self.reason, id="blocker-reason", markup=False)
            if self.fix:
                yield Static("What to do:", classes="section")
                yield Static(self.fix, id="blocker-fix", markup=False)
            yield Static(
                "Nothing was changed on this machine. Back returns to the machine profile; "
                "Quit leaves.",
                id="blocker-after",
                markup=False,
            )
        yield NavBar([nav_button("Back", "back"), nav_button("Quit", "blocker-quit-button")])
        yield WizardFooter()

    def on_mount(self) -> None:
        self.query_one("#blocker-body").focus()

    def action_noop(self) -> None:
        focused = self.focused
        if isinstance(focused, Button):
            focused.press()

    def next_value(self) -> None:
        return None

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        # Textual calls the base class's handler too (Back): only the Quit button here.
        if event.button.id == "blocker-quit-button":
            event.stop()
            event.prevent_default()
            self.action_cancel_wizard()
