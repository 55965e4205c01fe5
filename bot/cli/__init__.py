"""The command line (``unionbot``): one module per verb group; ``main`` is the entry point."""

from bot.cli.main import main

__all__ = ["main"]
