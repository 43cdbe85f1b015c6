"""Step 2: the choices. Every change re-runs ``explore``; impossible options are disabled with why."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.validation import ValidationResult, Validator
from textual.widgets import Button, Checkbox, Input, Label, RadioSet, Static

from torch_wizard.errors import UsageError
from torch_wizard.machine.model import Machine
from torch_wizard.plan.model import Choices, Plan
from torch_wizard.plan.options import Option, Options
from torch_wizard.plan.validate import check_venv_path
from torch_wizard.ui.screens.advanced import Advanced, AdvancedScreen
from torch_wizard.ui.screens.base import WizardScreen
from torch_wizard.ui.state import disk_for_venv, machine_summary, screen_words
from torch_wizard.ui.widgets import NavBar, PickBox, StepBar, WizardFooter, nav_button, option_set

Explorer = Callable[[Machine, Choices], Options]
Planner = Callable[[Machine, Choices], Plan]

FIELDS = ("channel", "build", "installer", "torch", "backend")


class VenvPath(Validator):
    """The venv path is checked as it is typed: a file, a non-venv folder with files, a system
    prefix or a read-only place is refused with the planner's own sentence."""

    def __init__(self, machine: Machine) -> None:
        super().__init__()
        self.machine = machine

    def validate(self, value: str) -> ValidationResult:
        if not value.strip():
            return self.failure("Give a folder for the virtual environment, e.g. .venv")
        try:
            check_venv_path(value.strip(), self.machine)
        except UsageError as err:
            return self.failure(str(err).replace("--venv ", "", 1))
        return self.success()


def field_options(options: Options, name: str) -> tuple[Option, ...]:
    """The options a field offers; torch versions only those this machine can install."""
    if name == "channel":
        return options.channels
    if name == "build":
        return options.builds
    if name == "installer":
        return options.installers
    if name == "torch":
        return tuple(o for o in options.versions if o.available)
    if name == "backend":
        return options.backends
    raise KeyError(name)


def selected_value(options: Options, name: str) -> str:
    c, r = options.choices, options.resolved
    if name == "channel":
        return c.channel
    if name == "build":
        return c.build
    if name == "installer":  # "auto" shows what it resolved to
        return r.installer if r else c.installer
    if name == "torch":
        return r.torch if r else c.torch
    if name == "backend":
        return r.backend if r else c.backend
    raise KeyError(name)


def why_content(options: Options, venv_error: str = "", note: str = "") -> Content:
    """The Why panel: what went wrong, what changed, why the recommendation, what is not offered.
    Sentences from the core name command-line flags; here they name the field instead."""
    lines: list[Content] = []
    if note:
        lines.append(Content.assemble(("Note: ", "bold $text-warning"), note))
    if venv_error:
        lines.append(Content.assemble(("✗ venv: ", "bold $text-error"), venv_error))
    if options.error:
        lines.append(Content.assemble(("✗ ", "bold $text-error"), screen_words(options.error)))
    for warning in options.warnings:
        lines.append(Content.assemble(("! ", "bold $text-warning"), screen_words(warning)))
    for change in options.adjusted:
        lines.append(Content.assemble(("Changed: ", "bold $text-warning"), screen_words(change)))
    for reason in options.reasons:
        lines.append(Content.assemble(("• ", "$text-success"), screen_words(reason)))
    groups: dict[str, list[str]] = {}
    for title, opts in (
        ("Channel", options.channels),
        ("Backend", options.backends),
        ("Package", options.packages),
        ("Installer", options.installers),
    ):
        for o in opts:
            if not o.available:
                groups.setdefault(f"{title} {{}}: {o.why}", []).append(o.value)
    for template, values in groups.items():
        lines.append(
            Content.assemble(
                ("✗ ", "$text-error"),
                (screen_words(template.format(", ".join(values))), "$text-muted"),
            )
        )
    return Content("\n").join(lines)


def legend_content() -> Content:
    """What the marks on the options mean, in one line (spaces end runs, never start them:
    some SVG renderers drop a run's leading spaces)."""
    return Content.assemble(
        ("★ ", "bold $text-success"),
        ("recommended · ", "$text-muted"),
        ("✗ ", "$text-error"),
        ("will not work here (see Why below) · ", "$text-muted"),
        ("Enter ", "bold $text-muted"),
        ("accepts", "$text-muted"),
    )


def with_field(choices: Choices, name: str, value: str) -> Choices:
    """``choices`` with one radio field set (the values come from the planner's own options)."""
    if name == "channel":
        return replace(choices, channel=value)  # type: ignore[arg-type]
    if name == "build":
        return replace(choices, build=value)  # type: ignore[arg-type]
    if name == "installer":
        return replace(choices, installer=value)  # type: ignore[arg-type]
    if name == "torch":
        return replace(choices, torch=value)
    if name == "backend":
        return replace(choices, backend=value)
    raise KeyError(name)


def platform_blocked(options: Options) -> bool:
    """No channel has a build for this machine and the core names no way round it (musl: "build
    from source with --build source"): nothing on the Choices step could change that."""
    return (
        options.resolved is None
        and not any(c.available for c in options.channels)
        and "--build source" not in options.error
    )


class ChoicesScreen(WizardScreen[Choices]):
    """Dismisses with Next(choices); ``machine`` is then the detected machine with the Advanced
    GPU facts applied and its free disk measured where the venv goes (what the planner uses)."""

    step_name = "choices"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("tab", "app.focus_next", "Next field", id="next-field", show=False),
        Binding(
            "ctrl+r",
            "reset",
            "Reset",
            show=False,
            id="reset",
            tooltip="Go back to the recommended choices",
        ),
        Binding(
            "a",
            "advanced",
            "Advanced",
            id="advanced",
            tooltip="Mirror (index base), download cache, GPU facts to assume",
        ),
    ]

    def __init__(
        self,
        steps: tuple[str, ...],
        machine: Machine,
        choices: Choices,
        explorer: Explorer,
        planner: Planner,
        message: str = "",
        *,
        overrides: dict[str, str] | None = None,
        note: str = "",
    ) -> None:
        super().__init__(steps)
        from torch_wizard.machine import apply_overrides

        self.detected = machine
        self.overrides = dict(overrides or {})
        self.machine = disk_for_venv(apply_overrides(machine, **self.overrides), choices.venv)
        self.explorer = explorer
        self.planner = planner
        self.message = message
        self.note = note
        self.options = explorer(self.machine, choices)
        self.venv_error = ""
        self._shown: dict[str, tuple[tuple[Option, ...], str]] = {}

    @property
    def choices(self) -> Choices:
        return self.options.choices

    def compose(self) -> ComposeResult:
        yield StepBar(self.steps, self.step_name)
        yield Static(machine_summary(self.machine), id="summary", markup=False)
        with VerticalScroll(id="form"):
            for name, title in (
                ("channel", "Channel"),
                ("build", "Build"),
                ("installer", "Installer"),
            ):
                with Horizontal(classes="field", id=f"row-{name}"):
                    yield Label(title, classes="field-label")
                    yield self._make_set(name)
            with Horizontal(classes="field", id="row-packages"):
                yield Label("Packages", classes="field-label")
                yield Horizontal(*self._package_boxes(), id="packages")
            yield Static(legend_content(), id="legend")
            with Horizontal(id="lists"):
                with Vertical(id="col-torch", classes="list-col"):
                    yield Label("Torch version", classes="list-label")
                    yield self._make_set("torch")
                with Vertical(id="col-backend", classes="list-col"):
                    yield Label("Backend", classes="list-label")
                    yield self._make_set("backend")
            with Horizontal(classes="field", id="row-venv"):
                yield Label("Venv", classes="field-label")
                yield Input(
                    self.choices.venv,
                    id="venv",
                    compact=True,
                    validators=[VenvPath(self.machine)],
                    validate_on=["changed", "submitted"],
                    placeholder=".venv",
                )
        with VerticalScroll(id="why"):
            yield Static(self._why(), id="why-text", markup=False)
        yield NavBar(
            [
                nav_button("Advanced…", "advanced-button"),
                nav_button("Back", "back"),
                nav_button("Next", "next", primary=True),
            ]
        )
        yield WizardFooter()

    def on_mount(self) -> None:
        if self.message:
            self.notify(self.message, severity="error", markup=False, timeout=8)
        self.query_one("#set-backend", RadioSet).focus()
        for name in FIELDS:
            self._highlight_pressed(name)

    # -- building the fields ------------------------------------------------------------------
    def _make_set(self, name: str) -> RadioSet:
        opts = field_options(self.options, name)
        value = selected_value(self.options, name)
        self._shown[name] = (opts, value)
        return option_set(
            f"set-{name}",
            opts,
            value,
            row=name in ("channel", "build", "installer"),
            show_value=name == "backend",
        )

    def _package_boxes(self) -> list[PickBox]:
        chosen = set(self.options.resolved.packages) if self.options.resolved else set()
        boxes = []
        for opt in self.options.packages:
            box = PickBox(
                opt.label,
                value=opt.value in chosen or opt.value == "torch",
                name=opt.value,
                disabled=not opt.available or opt.value == "torch",
                compact=True,
                tooltip=opt.why or None,
            )
            boxes.append(box)
        return boxes

    def _highlight_pressed(self, name: str) -> None:
        """Put the keyboard highlight on the chosen option (RadioSet starts at the first)."""
        radio = self.query_one(f"#set-{name}", RadioSet)
        if radio.pressed_index >= 0:
            radio._selected = radio.pressed_index  # no public setter for the highlight

    async def _refresh(self) -> None:
        """Re-render only what changed after a new ``explore``."""
        for name in FIELDS:
            opts = field_options(self.options, name)
            value = selected_value(self.options, name)
            if self._shown.get(name) == (opts, value):
                continue
            old = self.query_one(f"#set-{name}", RadioSet)
            had_focus = old.has_focus
            parent = old.parent
            if parent is None:
                continue
            await old.remove()
            new = self._make_set(name)
            await self.query_one(f"#{parent.id}").mount(new)
            self._highlight_pressed(name)
            if had_focus:
                new.focus()
        packages = self.query_one("#packages", Horizontal)
        wanted = [(b.label, b.value, b.disabled) for b in self._package_boxes()]
        have = [(b.label, b.value, b.disabled) for b in packages.query(Checkbox)]
        if wanted != have:
            focused = self.focused
            focus_name = focused.name if isinstance(focused, Checkbox) else None
            await packages.remove_children()
            await packages.mount_all(self._package_boxes())
            if focus_name:
                for box in packages.query(Checkbox):
                    if box.name == focus_name:
                        box.focus()
        self.query_one("#why-text", Static).update(self._why())

    def _why(self) -> Content:
        return why_content(self.options, self.venv_error, self.note)

    async def update_choices(self, choices: Choices) -> None:
        self.options = self.explorer(self.machine, choices)
        await self._refresh()

    # -- events ---------------------------------------------------------------------------------
    @on(RadioSet.Changed)
    async def _picked(self, event: RadioSet.Changed) -> None:
        event.stop()
        name = (event.radio_set.id or "").removeprefix("set-")
        value = event.pressed.name or ""
        if name not in FIELDS or selected_value(self.options, name) == value:
            return
        await self.update_choices(with_field(self.choices, name, value))

    @on(Checkbox.Changed)
    async def _packages_changed(self, event: Checkbox.Changed) -> None:
        event.stop()
        boxes = self.query_one("#packages", Horizontal).query(Checkbox)
        chosen = tuple(b.name or "" for b in boxes if b.value)
        await self.update_choices(replace(self.choices, packages=chosen))

    @on(Input.Changed, "#venv")
    async def _venv_changed(self, event: Input.Changed) -> None:
        result = event.validation_result
        if result is not None and not result.is_valid:
            self.venv_error = "; ".join(result.failure_descriptions)
            self.query_one("#why-text", Static).update(self._why())
            return
        self.venv_error = ""
        venv = event.value.strip()
        self.machine = disk_for_venv(self.machine, venv)  # the free disk where it will go
        await self.update_choices(replace(self.choices, venv=venv))

    def advanced_values(self) -> Advanced:
        c = self.choices
        return Advanced(
            index_base=c.index_base,
            allow_insecure_index=c.allow_insecure_index,
            cache_dir=c.cache_dir,
            cache=c.cache,
            overrides=dict(self.overrides),
        )

    def action_advanced(self) -> None:
        async def chosen(values: Advanced | None) -> None:
            if values is None:
                return
            from torch_wizard.machine import apply_overrides

            self.overrides = dict(values.overrides)
            self.machine = disk_for_venv(
                apply_overrides(self.detected, **self.overrides), self.choices.venv
            )
            choices = replace(
                self.choices,
                index_base=values.index_base,
                allow_insecure_index=values.allow_insecure_index,
                cache_dir=values.cache_dir,
                cache=values.cache,
            )
            await self.update_choices(choices)

        self.app.push_screen(AdvancedScreen(self.advanced_values(), self.detected), chosen)

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        # Textual calls the base class's handler too (Back/Next): only the extra button here.
        if event.button.id == "advanced-button":
            event.stop()
            event.prevent_default()
            self.action_advanced()

    async def action_reset(self) -> None:
        base = Choices(
            venv=self.choices.venv,
            index_base=self.choices.index_base,
            allow_insecure_index=self.choices.allow_insecure_index,
            cache_dir=self.choices.cache_dir,
            cache=self.choices.cache,
            network=self.choices.network,
            source=self.choices.source,
        )
        await self.update_choices(base)
        self.notify("Back to the recommended choices.", markup=False)

    def next_value(self) -> Choices | None:
        if self.venv_error:
            self.notify(f"venv: {self.venv_error}", severity="error", markup=False)
            self.query_one("#venv", Input).focus()
            return None
        if self.options.error:
            self.notify(screen_words(self.options.error), severity="error", markup=False)
            return None
        if self.choices.build == "wheel":
            try:
                self.planner(self.machine, self.choices)
            except UsageError as err:
                self.notify(screen_words(str(err)), severity="error", markup=False)
                return None
        return self.choices
