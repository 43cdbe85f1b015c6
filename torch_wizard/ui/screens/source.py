"""Step 2b (source builds only): build profile, editable install, parallel jobs, CUDA arch list."""

from __future__ import annotations

import re
from dataclasses import replace

from textual.app import ComposeResult
from textual.containers import Horizontal, VerticalScroll
from textual.content import Content
from textual.validation import Integer, Regex
from textual.widgets import Checkbox, Input, Label, RadioSet, Static

from torch_wizard.plan.model import SourceOptions
from torch_wizard.ui.screens.base import WizardScreen
from torch_wizard.ui.widgets import (
    GlyphRadio,
    NavBar,
    OptionSet,
    PickBox,
    StepBar,
    WizardFooter,
    nav_button,
)

PROFILES = (
    ("release", "Release", "optimised, no debug info: what the wheels are"),
    ("lean", "Lean", "fewer optional parts (no distributed, no tests): a faster build"),
    ("debug", "Debug", "no optimisation, full debug info: slow, for stepping into C++"),
    ("relwithdebinfo", "RelWithDebInfo", "optimised with debug info: large"),
)

# "8.6;8.9", "8.0 9.0+PTX", "Auto" is not accepted: empty means "from the detected GPUs".
ARCH_LIST = re.compile(r"^\s*(\d+\.\d+(\+PTX)?)([ ;,]+\d+\.\d+(\+PTX)?)*\s*$|^\s*$")

HELP = Content.assemble(
    ("Max jobs", "bold"),
    ": parallel compile jobs; 0 picks from RAM and cores (each job can need 2-4 GB of RAM).\n",
    ("CUDA archs", "bold"),
    ": compute capabilities to compile for, e.g. 8.6;8.9 — empty uses the detected GPUs.",
)


class SourceScreen(WizardScreen[SourceOptions]):
    step_name = "source"

    def __init__(self, steps: tuple[str, ...], source: SourceOptions) -> None:
        super().__init__(steps)
        self.source = source

    def compose(self) -> ComposeResult:
        yield StepBar(self.steps, self.step_name)
        with VerticalScroll(id="source-form"):
            with Horizontal(classes="field"):
                yield Label("Profile", classes="field-label")
                yield OptionSet(
                    *(
                        GlyphRadio(
                            title, value=value == self.source.profile, name=value, tooltip=why
                        )
                        for value, title, why in PROFILES
                    ),
                    id="profile",
                    classes="row",
                    compact=True,
                )
            yield Static(self._profile_help(self.source.profile), id="profile-help", markup=False)
            with Horizontal(classes="field"):
                yield Label("Editable", classes="field-label")
                yield PickBox(
                    "pip install -e . (develop: edit the Python sources in place)",
                    value=self.source.develop,
                    id="develop",
                    compact=True,
                )
            with Horizontal(classes="field"):
                yield Label("Configure", classes="field-label")
                yield PickBox(
                    "only: show the cmake configure line; build nothing",
                    value=self.source.configure_only,
                    id="configure-only",
                    compact=True,
                )
            with Horizontal(classes="field"):
                yield Label("Max jobs", classes="field-label")
                yield Input(
                    str(self.source.max_jobs),
                    id="max-jobs",
                    compact=True,
                    validators=[Integer(minimum=0, maximum=512)],
                    type="integer",
                )
            with Horizontal(classes="field"):
                yield Label("CUDA archs", classes="field-label")
                yield Input(
                    self.source.cuda_arch_list,
                    id="arch-list",
                    compact=True,
                    placeholder="from the detected GPUs",
                    validators=[Regex(ARCH_LIST.pattern, failure_description="use e.g. 8.6;8.9")],
                    valid_empty=True,
                )
            yield Static(HELP, id="source-help")
            yield Static("Where the sources come from", classes="section")
            for name, title, value, hint in (
                (
                    "source-url",
                    "Source",
                    self.source.url,
                    "a git URL (a mirror) or a local checkout",
                ),
                ("source-ref", "Ref", self.source.ref, "the tag for the torch version (vX.Y.Z)"),
                ("source-dir", "Checkout", self.source.checkout, "beside the venv: pytorch-src"),
            ):
                with Horizontal(classes="field"):
                    yield Label(title, classes="field-label")
                    yield Input(value, id=name, compact=True, placeholder=hint)
        yield NavBar([nav_button("Back", "back"), nav_button("Next", "next", primary=True)])
        yield WizardFooter()

    def on_mount(self) -> None:
        self.query_one("#profile", RadioSet).focus()

    @staticmethod
    def _profile_help(profile: str) -> str:
        return next((why for value, _, why in PROFILES if value == profile), "")

    def on_radio_set_changed(self, event: RadioSet.Changed) -> None:
        self.query_one("#profile-help", Static).update(self._profile_help(event.pressed.name or ""))

    def next_value(self) -> SourceOptions | None:
        jobs = self.query_one("#max-jobs", Input)
        archs = self.query_one("#arch-list", Input)
        for box in (jobs, archs):
            result = box.validate(box.value)
            if result is not None and not result.is_valid:
                self.notify("; ".join(result.failure_descriptions), severity="error", markup=False)
                box.focus()
                return None
        pressed = self.query_one("#profile", RadioSet).pressed_button
        profile = (pressed.name if pressed else None) or self.source.profile
        url = self.query_one("#source-url", Input).value.strip()
        if not url:
            self.notify("Source: give a git URL or a local checkout", severity="error")
            self.query_one("#source-url", Input).focus()
            return None
        return replace(
            self.source,
            url=url,
            ref=self.query_one("#source-ref", Input).value.strip(),
            checkout=self.query_one("#source-dir", Input).value.strip(),
            profile=profile,  # type: ignore[arg-type]
            develop=self.query_one("#develop", Checkbox).value,
            configure_only=self.query_one("#configure-only", Checkbox).value,
            max_jobs=int(jobs.value or 0),
            cuda_arch_list=archs.value.strip(),
        )
