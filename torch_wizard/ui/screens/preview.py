"""Step 3: the exact commands, as they will run; copy, save, run."""

from __future__ import annotations

from dataclasses import replace
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.css.query import NoMatches
from textual.widgets import Button, Static

from torch_wizard.plan.model import Plan, Step
from torch_wizard.plan.render import command_line
from torch_wizard.ui.screens.base import WizardScreen
from torch_wizard.ui.state import fmt_bytes, plan_headline, screen_words
from torch_wizard.ui.widgets import NavBar, StepBar, WizardFooter, nav_button


def estimate_line(plan: Plan) -> str:
    """Download, disk and time for this plan, and the free disk where its venv goes. The size
    figures are rough: one measurement of the torch wheel per kind of build (see
    ``torch_wizard.plan.estimate.SIZE_ESTIMATES``), and the screen says so."""
    est = plan.estimate
    parts = []
    if est.download:
        parts.append(f"download about {fmt_bytes(est.download)}")
    if est.disk:
        parts.append(f"disk about {fmt_bytes(est.disk)}")
    if est.minutes:
        parts.append(f"about {est.minutes:.0f} minutes")
    sized = bool(est.download or est.disk)
    if sized and plan.choice.build == "wheel":
        parts[-1] += " (rough: torch alone, as measured for one release)"
    free = plan.target.disk.free
    if free:
        parts.append(f"{fmt_bytes(free)} free at {plan.target.disk.path}")
    if not parts:
        return "Estimate: size unknown for this backend"
    if not sized and plan.choice.build == "wheel":
        parts.insert(0, "size unknown for this backend")
    return "Estimate: " + ", ".join(parts)


def warnings_content(plan: Plan) -> Content:
    seen: list[str] = []
    for warning in plan.warnings:
        text = screen_words(warning)
        if text not in seen:  # the same sentence from two planners is said once
            seen.append(text)
    return Content("\n").join(Content.assemble(("! ", "bold $text-warning"), text) for text in seen)


def notes_content(plan: Plan) -> Content:
    return Content("\n").join(
        Content.assemble(("• ", "$text-success"), screen_words(reason)) for reason in plan.reasons
    )


def verify_summary(step: Step) -> str:
    """The verify step folded into one line: its env, cwd and argv as they run, with the check
    script (``-c CODE``) replaced by how long it is; v unfolds it."""
    argv = step.argv
    if "-c" not in argv or argv.index("-c") + 1 >= len(argv):
        return command_line(step)
    i = argv.index("-c")
    lines = argv[i + 1].count("\n") + 1
    folded = (*argv[: i + 1], f"<check script, {lines} lines: v shows it>", *argv[i + 2 :])
    return command_line(replace(step, argv=folded))


class PreviewScreen(WizardScreen[str]):
    """Dismisses with Next("run"), or Next("quit") in dry-run mode."""

    step_name = "preview"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter", "noop", show=False, priority=True),
        Binding("c", "app.copy_commands", "Copy", id="copy", tooltip="Copy the commands"),
        Binding(
            "s", "app.save_plan('sh')", "Save .sh", id="save-sh", tooltip="Save a shell script"
        ),
        Binding(
            "w",
            "app.save_plan('ps1')",
            "Save .ps1",
            id="save-ps1",
            tooltip="Save a PowerShell script",
        ),
        Binding("j", "app.save_plan('json')", "Save JSON", id="save-json", tooltip="Save the plan"),
        Binding("r", "run", "Run", id="run", tooltip="Run these commands now"),
        Binding(
            "x",
            "app.save_plan('requirements')",
            "Export requirements",
            id="export-requirements",
            tooltip="Save a requirements file: the plan's index line and pins",
            show=False,
        ),
        Binding(
            "p",
            "app.save_plan('pyproject')",
            "Export pyproject",
            id="export-pyproject",
            tooltip="Save the [tool.uv] index and sources tables for a uv project",
            show=False,
        ),
        Binding(
            "a",
            "app.save_answers",
            "Save answers",
            id="save-answers",
            tooltip="Save the answers (TOML) for --config: resolved again on each machine",
            show=False,
        ),
        Binding(
            "v",
            "toggle_verify",
            "Show check",
            id="toggle-verify",
            tooltip="Show or fold the verify step's script",
            show=False,
        ),
        Binding(
            "q", "finish", "Quit", id="finish", tooltip="Leave; nothing is run", show=False
        ),  # the footer has ^q Quit already (and the Quit button is there): room for Help
    ]

    def __init__(self, steps: tuple[str, ...], plan: Plan, dry_run: bool) -> None:
        super().__init__(steps)
        self.plan = plan
        self.dry_run = dry_run

    def compose(self) -> ComposeResult:
        plan = self.plan
        yield StepBar(self.steps, self.step_name)
        with VerticalScroll(id="preview-body", can_focus=True):
            yield Static(plan_headline(plan, self.dry_run), id="plan-summary", markup=False)
            yield Static(estimate_line(plan), id="estimate", markup=False)
            if plan.warnings:
                yield Static(warnings_content(plan), id="plan-warnings", markup=False)
            yield Static("Commands (exactly what runs):", classes="section")
            for n, step in enumerate(plan.steps, 1):
                yield Static(f"# {n}. {step.title}", classes="step-title", markup=False)
                if step.id == "verify":
                    yield Static(
                        verify_summary(step), id="verify-folded", classes="command", markup=False
                    )
                    full = Static(
                        command_line(step), id="verify-full", classes="command", markup=False
                    )
                    full.display = False
                    yield full
                else:
                    yield Static(command_line(step), classes="command", markup=False)
            if plan.reasons:
                yield Static("Why:", classes="section")
                yield Static(notes_content(plan), id="plan-notes", markup=False)
        buttons = [
            nav_button("Back", "back"),
            nav_button("Copy", "copy"),
            nav_button("Save .sh", "save-sh"),
        ]
        if plan.target.os.name == "windows":
            buttons.append(nav_button("Save .ps1", "save-ps1"))
        buttons.append(nav_button("Save JSON", "save-json"))
        if self.dry_run:
            buttons.append(nav_button("Quit", "finish", primary=True))
        else:
            buttons.append(nav_button("Run", "run", primary=True))
        yield NavBar(buttons)
        yield WizardFooter()

    def on_mount(self) -> None:
        self.query_one("#preview-body").focus()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "run":
            return not self.dry_run
        if action == "finish":
            return self.dry_run
        if action == "save_plan" and parameters == ("ps1",):
            return self.plan.target.os.name == "windows"
        return super().check_action(action, parameters)

    def action_toggle_verify(self) -> None:
        try:
            full = self.query_one("#verify-full", Static)
        except NoMatches:
            return
        full.display = not full.display
        self.query_one("#verify-folded", Static).display = not full.display

    def action_noop(self) -> None:
        """Enter does not start a multi-gigabyte install: that takes r or the Run button."""
        focused = self.focused
        if isinstance(focused, Button):
            focused.press()

    def action_run(self) -> None:
        if not self.dry_run:
            self.dismiss_with("run")

    def action_finish(self) -> None:
        self.dismiss_with("quit")

    def dismiss_with(self, value: str) -> None:
        from torch_wizard.ui.state import Next

        self.dismiss(Next(value))

    def next_value(self) -> str | None:
        return None

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        actions = {
            "copy": "app.copy_commands",
            "save-sh": "app.save_plan('sh')",
            "save-ps1": "app.save_plan('ps1')",
            "save-json": "app.save_plan('json')",
            "run": "run",
            "finish": "finish",
        }
        button_id = event.button.id or ""
        if button_id in actions:
            event.stop()
            await self.run_action(actions[button_id])
        # Back: Textual runs the base class's handler as well; calling it here too dismissed the
        # screen twice (a crash: no screen left to pop).
