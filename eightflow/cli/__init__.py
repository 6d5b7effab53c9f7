"""The ``eightflow`` command line."""
