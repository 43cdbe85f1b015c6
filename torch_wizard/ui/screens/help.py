"""F1 / ?: every key of the screen underneath, in words. Esc (or F1, ?, q) closes only this."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, ClassVar

from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.dom import DOMNode
from textual.screen import ModalScreen, Screen
from textual.widgets import Button, Static

# Keys that are not bindings of ours but that a newcomer needs to know, per kind of widget on the
# screen (the class name as it appears in the DOM) and per step.
WIDGET_KEYS: dict[str, tuple[tuple[str, str], ...]] = {
    "OptionSet": (
        ("↑ ↓ ← →", "Move within a list of options"),
        ("home end", "First / last option of a list"),
        ("space", "Pick the highlighted option"),
    ),
    "PickBox": (("space", "Tick or untick a package"),),
    "Input": (("type", "Edit a text field; it is checked as you type"),),
    "VerticalScroll": (("↑ ↓ pgup pgdn", "Scroll"),),
}


def _node_bindings(app: App[Any], node: DOMNode) -> Iterable[tuple[str, str]]:
    for bindings in node._bindings.key_to_bindings.values():
        for binding in bindings:
            if not binding.description or binding.system:
                continue
            if app._check_action_state(binding.action, node) is False:  # as the footer decides
                continue
            key = app.get_key_display(binding).replace("⏎", "enter")
            yield key, binding.tooltip or binding.description


def screen_keys(screen: Screen[Any]) -> list[tuple[str, list[tuple[str, str]]]]:
    """(section, [(keys, what)]) for ``screen``: its own keys, the lists and fields on it, and the
    keys that work everywhere. Keys bound to one action are shown together ("f1 ?")."""
    app = screen.app

    def merged(pairs: Iterable[tuple[str, str]]) -> list[tuple[str, str]]:
        by_what: dict[str, list[str]] = {}
        for key, what in pairs:
            keys = by_what.setdefault(what, [])
            if key not in keys:
                keys.append(key)
        return [(" ".join(keys), what) for what, keys in by_what.items()]

    sections: list[tuple[str, list[tuple[str, str]]]] = []
    own = merged(_node_bindings(app, screen))
    if own:
        sections.append(("On this screen", own))
    widget_rows: list[tuple[str, str]] = []
    present = {type(n).__name__ for n in screen.walk_children()} | {
        base.__name__ for n in screen.walk_children() for base in type(n).__mro__
    }
    for name, rows in WIDGET_KEYS.items():
        if name in present:
            widget_rows.extend(rows)
    sections.append(("Lists, fields and buttons", merged(widget_rows)))
    sections.append(("Everywhere", merged(_node_bindings(app, app))))
    return sections


def keys_content(sections: list[tuple[str, list[tuple[str, str]]]]) -> Content:
    width = max((len(k) for _, rows in sections for k, _ in rows), default=4) + 2
    lines: list[Content] = []
    for n, (title, rows) in enumerate(sections):
        if n:
            lines.append(Content(""))
        lines.append(Content.styled(title, "bold $text-primary"))
        for keys, what in rows:
            lines.append(Content.assemble((keys.ljust(width), "bold $text-accent"), what))
    return Content("\n").join(lines)


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,f1,question_mark,q", "close", "Close", id="close-help"),
    ]

    def __init__(self, under: Screen[Any], title: str) -> None:
        super().__init__()
        self.sections = screen_keys(under)
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(id="help"):
            yield Static(f"Keys: {self.title_text}", id="help-title", markup=False)
            with VerticalScroll(id="help-body"):
                yield Static(keys_content(self.sections), id="help-keys")
            yield Button("Close (esc)", id="help-close", compact=True)

    def on_mount(self) -> None:
        self.query_one("#help-body").focus()

    def action_close(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)
