"""Step 5: the outcome: verification, log and receipt, how to use the venv; or what failed and why."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.content import Content
from textual.widgets import Static

from torch_wizard.ui.screens.base import WizardScreen
from torch_wizard.ui.screens.run import RunResult
from torch_wizard.ui.state import failure_hints, report_lines, venv_hints
from torch_wizard.ui.widgets import NavBar, StepBar, WizardFooter, nav_button


def headline(result: RunResult) -> Content:
    f = result.finished
    if f.outcome == "ok":
        if result.finished.verify is not None and not result.finished.verify.ok:
            return Content.styled(
                "! Installed, but torch does not work as planned", "bold $text-warning"
            )
        return Content.styled("✓ PyTorch is installed and works", "bold $text-success")
    if f.outcome == "cancelled":
        return Content.styled("■ The install was cancelled", "bold $text-warning")
    return Content.styled("✗ The install failed", "bold $text-error")


class DoneScreen(WizardScreen[str]):
    """Dismisses with Next("quit"), or Back() to return to the preview."""

    step_name = "done"

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("enter,q", "next", "Quit", priority=True, id="quit", tooltip="Leave the wizard"),
        Binding("escape", "back", "Preview", id="back", tooltip="Back to the preview"),
        Binding("c", "copy_activate", "Copy activate", id="copy-activate"),
    ]

    def __init__(
        self,
        steps: tuple[str, ...],
        result: RunResult,
        display_path: Callable[[str], str] = str,
        show_timings: bool = True,
        display_text: Callable[[str], str] = str,
    ) -> None:
        super().__init__(steps)
        self.result = result
        self.display_path = display_path
        self.show_timings = show_timings
        self.display_text = display_text

    @property
    def venv_gone(self) -> bool:
        """The run left no venv (never created, or removed again): nothing to activate or use."""
        return self.result.finished.venv_state in ("removed", "absent")

    def compose(self) -> ComposeResult:
        result = self.result
        f = result.finished
        plan = result.plan
        yield StepBar(self.steps, self.step_name)
        with VerticalScroll(id="done-body", can_focus=True):
            yield Static(headline(result), id="headline")
            report = f.verify
            if f.outcome != "ok" or report is None:
                # With a report the verification below says it all (and in plainer words).
                yield Static(self.display_text(f.message), id="done-message", markup=False)
            if f.venv_note:
                yield Static(self.display_text(f.venv_note), id="venv-note", markup=False)
            if report is not None:
                lines = report_lines(report, plan.choice.backend, plan.choice.torch)
                yield Static("A quick test in the environment:", classes="section")
                yield Static("\n".join(lines), id="report", markup=False)
            if f.outcome != "ok":
                try:
                    title = plan.step(f.failed_step).title
                except KeyError:
                    title = f.failed_step
                if f.failed_step and title not in f.message:  # the message names it already
                    failed = f.outcome == "failed"
                    code = f" (exit code {f.returncode})" if f.returncode and failed else ""
                    what = "Failed step:" if failed else "Stopped during"
                    yield Static(
                        self.display_text(f"{what} {title}{code}"),
                        id="failed-step",
                        markup=False,
                    )
                if f.tail:
                    yield Static("Last output:", classes="section")
                    yield Static("\n".join(f.tail), id="tail", markup=False)
                if f.outcome == "failed":
                    yield Static("What to try:", classes="section")
                    hints = [*f.problems, *failure_hints(f.failed_step, f.tail)]
                    yield Static("\n".join(f"• {h}" for h in hints), id="hints", markup=False)
            elif not self.venv_gone:
                use = "Use it: activate the environment, or run its Python"
                yield Static(use, classes="section")
                hints = venv_hints(self.display_text(plan.choice.venv), plan.target.os.name)
                yield Static("\n".join(hints), id="use", markup=False)
            paths = []
            if f.log_path:
                paths.append(f"Log:     {self.display_path(f.log_path)}")
            if f.receipt_path:
                paths.append(f"Receipt: {self.display_path(f.receipt_path)}")
            if paths:
                yield Static("\n".join(paths), id="paths", markup=False)
        yield NavBar(
            [nav_button("Back to preview", "back"), nav_button("Quit", "next", primary=True)]
        )
        yield WizardFooter()

    def on_mount(self) -> None:
        self.query_one("#done-body").focus()

    def next_value(self) -> str | None:
        return "quit"

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "copy_activate" and self.venv_gone:
            return False
        return super().check_action(action, parameters)

    def action_copy_activate(self) -> None:
        if self.venv_gone:
            return
        plan = self.result.plan
        line = venv_hints(plan.choice.venv, plan.target.os.name)[0]
        self.app.copy_to_clipboard(line)
        self.notify(f"Copied: {line}", markup=False)
