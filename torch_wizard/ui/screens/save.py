"""Where to save a file: the default path shown and editable; an existing file is not replaced
without a yes. Dismisses with the absolute path to write, or None."""

from __future__ import annotations

import os
from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Static


def save_problem(text: str) -> str:
    """Why ``text`` cannot be saved to, or "" (a folder that does not exist yet is made)."""
    if not text.strip():
        return "give a file name"
    path = Path(os.path.expanduser(text.strip()))
    if path.is_dir():
        return f"{path} is a folder: add a file name"
    parent = path.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if parent.exists() and not parent.is_dir():
        return f"{parent} is a file, not a folder"
    if parent.exists() and not os.access(parent, os.W_OK):
        return f"{parent} is not writable: choose another folder"
    return ""


class SaveScreen(ModalScreen[str | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="save-cancel"),
        Binding("enter", "save", "Save", id="save-ok", priority=True),
    ]

    def __init__(self, what: str, default: str) -> None:
        super().__init__()
        self.what = what
        self.default = default
        self.confirming = ""  # the path an overwrite is being asked about

    def compose(self) -> ComposeResult:
        with Vertical(id="save"):
            yield Static(f"Save {self.what} as:", id="save-title", markup=False)
            yield Input(self.default, id="save-path", compact=True)
            yield Static("", id="save-problem", markup=False)
            with Horizontal(id="save-buttons"):
                yield Button("Cancel (esc)", id="save-no", compact=True)
                yield Button("Save (enter)", id="save-yes", variant="primary", compact=True)

    def on_mount(self) -> None:
        box = self.query_one("#save-path", Input)
        box.focus()
        box.cursor_position = len(box.value)

    def on_input_changed(self, event: Input.Changed) -> None:
        self.confirming = ""
        self._say(save_problem(event.value), error=True)

    def _say(self, text: str, *, error: bool = False) -> None:
        note = self.query_one("#save-problem", Static)
        note.update(text)
        note.set_class(error and bool(text), "error")
        note.set_class(not error and bool(text), "warning")

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_save(self) -> None:
        focused = self.focused
        if isinstance(focused, Button) and focused.id == "save-no":
            self.dismiss(None)
            return
        text = self.query_one("#save-path", Input).value
        problem = save_problem(text)
        if problem:
            self._say(problem, error=True)
            return
        path = str(Path(os.path.expanduser(text.strip())).absolute())
        if Path(path).exists() and self.confirming != path:
            self.confirming = path
            self._say(f"{path} exists: press Enter again to replace it, or change the name.")
            return
        self.dismiss(path)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "save-yes":
            self.action_save()
        else:
            self.dismiss(None)
