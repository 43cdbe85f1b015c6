"""Small widgets shared by the screens: the step bar, the Back/Next bar, option sets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.widgets import Button, Checkbox, RadioButton, RadioSet, Static

from wizard.plan.recommend import Option

STEP_TITLES = {
    "machine": "Machine",
    "choices": "Choices",
    "source": "Source build",
    "preview": "Preview",
    "run": "Run",
    "done": "Done",
}


def step_bar_content(steps: Sequence[str], current: str) -> Content:
    """ "torch-wizard 1. Machine > [2. Choices] > 3. Preview ...", the current step highlighted."""
    parts: list[str | tuple[str, str]] = [("torch-wizard ", "bold $accent")]
    for n, step in enumerate(steps):
        if n:
            parts.append((" > ", "$text-muted"))
        title = STEP_TITLES.get(step, step)
        if step == current:
            parts.append((f" {n + 1}. {title} ", "bold reverse $primary"))
        else:
            parts.append((f"{n + 1}. {title}", "$text-muted"))
    return Content.assemble(*parts)


class StepBar(Static):
    """One line at the top: where in the flow this screen is."""

    DEFAULT_CSS = """
    StepBar { height: 1; width: 1fr; background: $panel; padding: 0 1; }
    """

    def __init__(self, steps: Sequence[str], current: str) -> None:
        super().__init__(step_bar_content(steps, current), id="stepbar")


class NavBar(Horizontal):
    """The row of buttons at the bottom of a step (mouse users' Back/Next)."""

    DEFAULT_CSS = """
    NavBar { height: 1; width: 1fr; align-horizontal: right; padding: 0 1; }
    NavBar Button { margin-left: 2; min-width: 8; }
    NavBar .spacer { width: 1fr; }
    """

    def __init__(self, buttons: Iterable[Button], *, id: str = "nav") -> None:
        super().__init__(id=id)
        self._buttons = list(buttons)

    def compose(self) -> ComposeResult:
        yield from self._buttons


class OptionSet(RadioSet):
    """A RadioSet whose Space shows in the footer as "Pick" (Enter belongs to the screen: Next)."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "space", "toggle_button", "Pick", id="pick", tooltip="Choose the highlighted option"
        ),
    ]


class PickBox(Checkbox):
    """A Checkbox whose Space shows in the footer as "Pick"."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_button", "Pick", id="pick", tooltip="Tick or untick"),
    ]


def nav_button(
    label: str, button_id: str, *, primary: bool = False, disabled: bool = False
) -> Button:
    return Button(
        label,
        id=button_id,
        variant="primary" if primary else "default",
        compact=True,
        disabled=disabled,
    )


def option_label(opt: Option, *, show_value: bool = False) -> Content:
    """The label of one option: its name, ★ when recommended, ✗ when it cannot be chosen here."""
    text = opt.label
    if show_value and opt.value != opt.label and opt.value not in opt.label:
        text = f"{opt.label} ({opt.value})"
    parts: list[str | tuple[str, str]] = [text]
    if opt.recommended:
        parts.append((" ★", "bold $text-success"))
    if not opt.available:
        parts.append((" ✗", "$text-error"))
    return Content.assemble(*parts)


def option_set(
    set_id: str,
    options: Sequence[Option],
    selected: str,
    *,
    row: bool = False,
    show_value: bool = False,
) -> RadioSet:
    """A RadioSet of ``options``: unavailable ones disabled with the reason as their tooltip."""
    buttons = []
    for opt in options:
        button = RadioButton(
            option_label(opt, show_value=show_value),
            value=opt.value == selected,
            name=opt.value,
            disabled=not opt.available,
            tooltip=opt.why or None,
        )
        buttons.append(button)
    return OptionSet(*buttons, id=set_id, classes="row" if row else "column", compact=True)
