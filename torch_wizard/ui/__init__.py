"""The Textual wizard. Only ``torch_wizard.commands.ui`` imports this package; the core never does."""
