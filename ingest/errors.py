"""Exceptions with messages a user can act on. Every message is free of the API key."""


class AtpError(Exception):
    """Base class for every error this project raises on purpose."""


class ConfigError(AtpError):
    """A setting (environment variable) is missing or invalid."""


class CensusError(AtpError):
    """The Census API could not give us a usable answer."""


class CensusAuthError(CensusError):
    """The API refused the key (the X-DataWebAPI-KeyError header, a redirect to the key page,
    401/403, or the key page instead of data). Never retried, and the run's later requests are
    refused without being sent."""


class CensusRequestError(CensusError):
    """The API rejected the request itself (400/404): a programming or configuration error."""


class CensusUnavailableError(CensusError):
    """Transient failures (429, 5xx, timeouts, dropped connections, a maintenance page) outlasted
    a request's retries; the run's later requests then fail at once with it."""


class AnswerTooLarge(CensusError):
    """A request asked as splittable timed out or got 502/504: the caller asks for less (fewer
    codes, fewer months) instead of sending the same request again."""


class CensusResponseError(CensusError):
    """A 200 answer that is not the table we asked for; nothing is written."""


class WarehouseError(AtpError):
    """The DuckDB warehouse or the landing zone could not be used."""


class WarehouseBusyError(WarehouseError):
    """Another process holds the DuckDB file open for writing."""


class LandingError(WarehouseError):
    """A landed file is missing, corrupt or cannot be written."""
