"""The Textual wizard. Only ``wizard.commands.ui`` imports this package; the core never does."""
