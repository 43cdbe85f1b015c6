"""Small widgets shared by the screens: the step bar, the Back/Next bar, option sets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal
from textual.content import Content
from textual.style import Style
from textual.widgets import Button, Checkbox, Footer, RadioButton, RadioSet, Static

from torch_wizard.plan.options import Option

STEP_TITLES = {
    "machine": "Machine",
    "choices": "Choices",
    "source": "Source",
    "preview": "Preview",
    "run": "Run",
    "done": "Done",
}
STEP_SEPARATOR = "\u203a"  # a single right-pointing angle quotation mark


def step_bar_content(steps: Sequence[str], current: str) -> Content:
    """ "torch-wizard 1 Machine > ▐2 Choices▌ > 3 Preview" (with STEP_SEPARATOR for ">"): the
    same separator between every two steps, the current one drawn as a pill (half blocks at its
    ends).

    No styled run starts with a space: some SVG renderers (librsvg) drop a run's leading
    spaces, which shifts it one cell left; the spaces always end the run before instead.
    """
    muted, pill = "$text-muted", "$primary"
    parts: list[tuple[str, str]] = [("torch-wizard ", "bold $accent")]

    def add(text: str, style: str) -> None:
        if parts[-1][1] == style:
            parts[-1] = (parts[-1][0] + text, style)
        else:
            parts.append((text, style))

    for n, step in enumerate(steps):
        label = f"{n + 1} {STEP_TITLES.get(step, step)}"
        if n:
            add(f"{'' if steps[n - 1] == current else ' '}{STEP_SEPARATOR} ", muted)
        if step == current:
            add("▐", pill)
            add(label, f"bold reverse {pill}")
            add("▌ ", pill)
        else:
            add(label, muted)
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


class GlyphRadio(RadioButton):
    """A radio button whose state shows without colour: ● chosen, ○ not."""

    @property
    def _button(self) -> Content:
        return Content.assemble(*_spans(super()._button, self.value))


def _spans(button: Content, on: bool) -> list[tuple[str, Style | str]]:
    """The three parts of a toggle's button (left, inner, right) with the inner glyph by state."""
    text = button.plain
    inner = ("●" if on else "○") if len(text) == 3 else text[1:-1]
    spans = [span for span in button.spans]
    styles: list[Style | str] = ["", "", ""]
    for span in spans:
        for i in range(span.start, min(span.end, 3)):
            styles[i] = span.style
    return [(text[0], styles[0]), (inner, styles[1]), (text[-1], styles[2])]


class OptionSet(RadioSet):
    """A RadioSet whose Space shows in the footer as "Pick" (Enter belongs to the screen: Next);
    Home and End move the highlight to the first and last option that can be picked."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding(
            "space", "toggle_button", "Pick", id="pick", tooltip="Choose the highlighted option"
        ),
        Binding("home", "first", "First", show=False, tooltip="First option"),
        Binding("end", "last", "Last", show=False, tooltip="Last option"),
    ]

    def _enabled(self) -> list[int]:
        return [n for n, b in enumerate(self.query(RadioButton)) if not b.disabled]

    def action_first(self) -> None:
        enabled = self._enabled()
        if enabled:
            self._selected = enabled[0]

    def action_last(self) -> None:
        enabled = self._enabled()
        if enabled:
            self._selected = enabled[-1]


class PickBox(Checkbox):
    """A Checkbox whose Space shows in the footer as "Pick"; ✓ when ticked, blank when not."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "toggle_button", "Pick", id="pick", tooltip="Tick or untick"),
    ]

    @property
    def _button(self) -> Content:
        button = super()._button
        spans = _spans(button, self.value)
        spans[1] = ("✓" if self.value else " ", spans[1][1])
        return Content.assemble(*spans)


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
    marks: list[tuple[str, str]] = []
    if opt.recommended:
        marks.append(("★", "bold $text-success"))
    if not opt.available:
        marks.append(("✗", "$text-error"))
    # the spaces end the previous run (some SVG renderers drop a run's leading spaces)
    parts: list[str | tuple[str, str]] = [text + " " if marks else text]
    for n, (mark, style) in enumerate(marks):
        parts.append((mark + (" " if n < len(marks) - 1 else ""), style))
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
        button = GlyphRadio(
            option_label(opt, show_value=show_value),
            value=opt.value == selected,
            name=opt.value,
            disabled=not opt.available,
            tooltip=opt.why or None,
        )
        buttons.append(button)
    return OptionSet(*buttons, id=set_id, classes="row" if row else "column", compact=True)


class WizardFooter(Footer):
    """The footer; below 80 columns it packs its keys tighter and leaves the palette key out (the
    help screen lists it), so Quit and Help stay on it at 60 columns."""

    NARROW = 80

    def on_resize(self, event: events.Resize) -> None:
        narrow = event.size.width < self.NARROW
        if narrow == self.compact and self.show_command_palette == (not narrow):
            return
        self.compact = narrow
        self.show_command_palette = not narrow
        self.call_after_refresh(self.recompose)
