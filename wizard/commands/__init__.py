"""Subcommands: each module has ``run(args) -> int``; ``wizard.cli`` imports only the one used."""
