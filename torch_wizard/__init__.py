"""torch-wizard: get PyTorch installed right the first time."""

__version__ = "0.1.0"
