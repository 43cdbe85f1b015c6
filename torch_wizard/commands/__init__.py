"""Subcommands: each module has ``run(args) -> int``; ``torch_wizard.cli`` imports only the one used."""
