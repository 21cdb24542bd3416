"""The errors a user can cause. The CLI prints their message in one line and exits with 2."""


class UserError(Exception):
    """A mistake in the user's input (config, CLI, paths): the message names it."""


class ConfigError(UserError, ValueError):
    """A config field is unknown or has an invalid value."""


class StoreError(UserError):
    """The run store cannot be opened, written or does not hold what was asked for."""
