"""The ``leadgate`` command line."""
