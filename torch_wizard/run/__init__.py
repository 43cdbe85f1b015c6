"""Running plans: the runner (async subprocess streaming, cancel, logs), verification, receipts."""
