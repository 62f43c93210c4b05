"""Made Open composition root: settings, CLI, app factory and process roles."""

__version__ = "0.1.0"
