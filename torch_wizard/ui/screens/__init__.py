"""One module per step of the flow, plus the confirm modal."""
