"""Advanced choices (a on the Choices step): the index base (a mirror), the download cache, and
what to assume about the GPU when detection cannot see it. Each field is checked with the same
function the command line uses; the screen dismisses with ``Advanced`` or None (Esc)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from torch_wizard.errors import UsageError
from torch_wizard.machine.model import Machine
from torch_wizard.plan.model import DEFAULT_INDEX_BASE, CacheChoice
from torch_wizard.ui.state import screen_words
from torch_wizard.ui.widgets import GlyphRadio, OptionSet, PickBox

OVERRIDES = (
    ("compute_capability", "Compute capability", "e.g. 8.6: the GPU's, when nvidia-smi is missing"),
    ("nvidia_driver", "NVIDIA driver", "e.g. 550.54.14: the driver the machine will have"),
    ("amd_arch", "AMD gfx target", "e.g. gfx1100: when no ROCm tools report it"),
)
CACHES: tuple[tuple[CacheChoice, str, str], ...] = (
    ("auto", "Auto", "keep it when the disk has room for it"),
    ("keep", "Keep", "a second install downloads nothing"),
    ("off", "No cache", "for a small disk"),
)


@dataclass(frozen=True)
class Advanced:
    index_base: str = DEFAULT_INDEX_BASE
    allow_insecure_index: bool = False
    cache_dir: str = ""
    cache: CacheChoice = "auto"
    overrides: dict[str, str] = field(default_factory=dict)


def advanced_problems(values: Advanced, machine: Machine) -> dict[str, str]:
    """Field name -> why it is refused (the core's own checks, in screen words)."""
    from torch_wizard.machine import apply_overrides
    from torch_wizard.plan.validate import check_index_base

    problems: dict[str, str] = {}
    try:
        check_index_base(values.index_base.strip(), values.allow_insecure_index)
    except UsageError as err:
        problems["index_base"] = screen_words(str(err))
    if values.cache_dir.strip() and values.cache == "off":
        problems["cache_dir"] = "a cache folder and No cache contradict each other: keep one"
    for name, _, _ in OVERRIDES:
        value = values.overrides.get(name, "").strip()
        if not value:
            continue
        try:
            apply_overrides(machine, **{name: value})
        except UsageError as err:
            problems[name] = screen_words(str(err))
    return problems


class AdvancedScreen(ModalScreen[Advanced | None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel", id="advanced-cancel", tooltip="Keep what was set"),
        Binding("enter", "apply", "Apply", id="advanced-apply", priority=True, tooltip="Use these"),
    ]

    def __init__(self, values: Advanced, machine: Machine) -> None:
        super().__init__()
        self.values = values
        self.machine = machine  # as detected: the overrides apply on top of it

    def compose(self) -> ComposeResult:
        v = self.values
        with Vertical(id="advanced"):
            yield Static("Advanced choices", id="advanced-title")
            with VerticalScroll(id="advanced-form"):
                yield Static("Where the wheels come from", classes="section")
                with Horizontal(classes="field"):
                    yield Label("Index base", classes="field-label")
                    yield Input(v.index_base, id="index_base", compact=True)
                yield Static(
                    "A mirror of https://download.pytorch.org/whl (the backend's folder is added).",
                    classes="hint",
                    markup=False,
                )
                with Horizontal(classes="field"):
                    yield Label("", classes="field-label")
                    yield PickBox(
                        "Allow plain http (a mirror on your own network)",
                        value=v.allow_insecure_index,
                        id="allow_insecure_index",
                        compact=True,
                    )
                yield Static("Download cache", classes="section")
                with Horizontal(classes="field"):
                    yield Label("Cache", classes="field-label")
                    yield OptionSet(
                        *(
                            GlyphRadio(title, value=value == v.cache, name=value, tooltip=why)
                            for value, title, why in CACHES
                        ),
                        id="cache",
                        classes="row",
                        compact=True,
                    )
                with Horizontal(classes="field"):
                    yield Label("Cache folder", classes="field-label")
                    yield Input(
                        v.cache_dir,
                        id="cache_dir",
                        compact=True,
                        placeholder="the installer's own (e.g. ~/.cache/uv)",
                    )
                yield Static(
                    "GPU facts to assume (when detection cannot see them)", classes="section"
                )
                for name, title, hint in OVERRIDES:
                    with Horizontal(classes="field"):
                        yield Label(title, classes="field-label")
                        yield Input(
                            v.overrides.get(name, ""), id=name, compact=True, placeholder=hint
                        )
                yield Static("", id="advanced-problems", markup=False)
            with Horizontal(id="advanced-buttons"):
                yield Button("Cancel (esc)", id="advanced-no", compact=True)
                yield Button("Apply (enter)", id="advanced-yes", variant="primary", compact=True)

    def on_mount(self) -> None:
        self.query_one("#index_base", Input).focus()

    def current(self) -> Advanced:
        pressed = self.query_one("#cache", OptionSet).pressed_button
        cache: CacheChoice = "auto"
        for value, _, _ in CACHES:
            if pressed is not None and pressed.name == value:
                cache = value
        return Advanced(
            index_base=self.query_one("#index_base", Input).value.strip(),
            allow_insecure_index=self.query_one("#allow_insecure_index", PickBox).value,
            cache_dir=self.query_one("#cache_dir", Input).value.strip(),
            cache=cache,
            overrides={
                name: self.query_one(f"#{name}", Input).value.strip()
                for name, _, _ in OVERRIDES
                if self.query_one(f"#{name}", Input).value.strip()
            },
        )

    def show_problems(self) -> dict[str, str]:
        problems = advanced_problems(self.current(), self.machine)
        lines = [Content.assemble(("✗ ", "bold $text-error"), text) for text in problems.values()]
        self.query_one("#advanced-problems", Static).update(Content("\n").join(lines))
        for box in self.query(Input):
            box.set_class(bool(box.id in problems), "-invalid")
        return problems

    def on_input_changed(self, event: Input.Changed) -> None:
        self.show_problems()

    def on_checkbox_changed(self) -> None:
        self.show_problems()

    def on_radio_set_changed(self) -> None:
        self.show_problems()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def action_apply(self) -> None:
        focused = self.focused
        if isinstance(focused, Button) and focused.id == "advanced-no":
            self.dismiss(None)
            return
        if self.show_problems():
            return
        self.dismiss(self.current())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "advanced-yes":
            self.action_apply()
        else:
            self.dismiss(None)
