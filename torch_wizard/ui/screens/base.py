"""The base of every step: Back/Next bindings and dismissal with a StepResult."""

from __future__ import annotations

from typing import Any, ClassVar, Generic, TypeVar

from textual import events
from textual.binding import Binding, BindingType
from textual.css.query import NoMatches
from textual.screen import Screen
from textual.widgets import Button, Static

from torch_wizard.ui.state import Back, Cancel, Next

T = TypeVar("T")

# The smallest terminal the layouts are made for (tested: Back/Next stay on screen at 60x18).
MIN_SIZE = (60, 18)


class WizardScreen(Screen[Any], Generic[T]):
    """A step of the flow. Dismisses with ``Next(value)``, ``Back()`` or ``Cancel()``.

    Enter is a priority binding: it moves on from wherever the focus is (a radio set, an input),
    so pressing only Enter accepts every recommendation. Space picks an option.
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "enter",
            "next",
            "Next",
            priority=True,
            id="next",
            tooltip="Accept what is shown and go to the next step",
        ),
        Binding("escape", "back", "Back", id="back", tooltip="Go to the previous step"),
    ]

    step_name: ClassVar[str] = ""
    can_go_back: ClassVar[bool] = True

    def __init__(self, steps: tuple[str, ...]) -> None:
        super().__init__()
        self.steps = steps

    # -- subclasses -------------------------------------------------------------------------
    def next_value(self) -> T | None:
        """The value to hand forward, or None to stay (after telling the user why)."""
        raise NotImplementedError

    def on_resize(self, event: events.Resize) -> None:
        """Below ``MIN_SIZE`` a line at the top says so (the screens still draw what fits)."""
        width, height = event.size
        small = width < MIN_SIZE[0] or height < MIN_SIZE[1]
        try:
            note = self.query_one("#too-small", Static)
        except NoMatches:
            if not small:
                return
            note = Static(id="too-small", markup=False)
            self.mount(note)
        note.update(
            f"The terminal is {width}x{height}; the wizard needs at least "
            f"{MIN_SIZE[0]}x{MIN_SIZE[1]}: make the window larger."
        )
        note.display = small

    # -- actions ----------------------------------------------------------------------------
    def action_next(self) -> None:
        focused = self.focused
        if isinstance(focused, Button) and focused.id not in ("next", None):
            focused.press()
            return
        value = self.next_value()
        if value is not None:
            self.dismiss(Next(value))

    def action_back(self) -> None:
        if self.can_go_back:
            self.dismiss(Back())

    def action_cancel_wizard(self) -> None:
        self.dismiss(Cancel())

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        return action != "back" or self.can_go_back

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "next":
            event.stop()
            value = self.next_value()
            if value is not None:
                self.dismiss(Next(value))
        elif event.button.id == "back":
            event.stop()
            self.action_back()
