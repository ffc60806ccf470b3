"""The one table of errors and exit codes.

Every failure a user can cause or meet is one of these; the CLI turns it into a
message on stderr and its exit code, never a traceback.

    0 ok · 1 error · 2 bad usage or invalid input · 3 not found · 4 not in a state
    for that · 5 rate limited · 6 account needs reconnecting · 7 partial success ·
    130 interrupted (Ctrl-C, the shell's convention: 128 + SIGINT)
"""

from __future__ import annotations

from datetime import datetime

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_NOT_FOUND = 3
EXIT_BAD_STATE = 4
EXIT_RATE_LIMITED = 5
EXIT_RECONNECT = 6
EXIT_PARTIAL = 7
EXIT_INTERRUPTED = 130

EXIT_CODES = {
    EXIT_OK: "ok",
    EXIT_ERROR: "error",
    EXIT_USAGE: "bad usage or invalid input",
    EXIT_NOT_FOUND: "not found",
    EXIT_BAD_STATE: "not in a state for that (e.g. analytics of a draft)",
    EXIT_RATE_LIMITED: "rate limited",
    EXIT_RECONNECT: "account needs reconnecting (token expired or revoked)",
    EXIT_PARTIAL: "partial success (some targets published, some failed)",
    EXIT_INTERRUPTED: "interrupted (Ctrl-C)",
}


class PostcliError(Exception):
    """Base of every error postcli reports to a user. `hint` says how to fix it."""

    exit_code = EXIT_ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        return self.message


class OutputFailed(PostcliError):
    """Standard output could not be written (closed, a full device, an I/O error): exit 1.

    A reader that left a pipe (EPIPE) is not this: it stays a BrokenPipeError, which the CLI
    ends quietly. Raised by streams.py (text) and outfile.py (a file sent to `-`).
    """

    @classmethod
    def of(cls, exc: BaseException | None) -> OutputFailed:
        """The failure `exc` (None: there is no standard output at all) as one message."""
        import errno

        if exc is None or isinstance(exc, (AttributeError, ValueError)):  # no stream, or a closed one
            why = "it is closed"
        else:
            code = getattr(exc, "errno", None)
            why = {errno.ENOSPC: "no space left on the device", errno.EBADF: "it is closed"}.get(code or 0) or (
                getattr(exc, "strerror", None) or str(exc)
            ).lower()
        return cls(
            f"cannot write to standard output: {why}.",
            hint="Send the output where it can be written (a file with free space, a pipe, or /dev/null).",
        )


class InvalidInput(PostcliError):
    exit_code = EXIT_USAGE


class BadSettings(InvalidInput):
    """A setting postcli cannot use (config file, credentials file, environment variable): exit 2.

    Apart from other invalid input so `collect` can tell "fix your settings" from a
    platform's failure when it sums up a run.
    """


class SignInFailed(PostcliError):
    """A browser sign-in did not complete (declined, state mismatch, timeout, refused code). Exit 1."""


class NotFound(PostcliError):
    exit_code = EXIT_NOT_FOUND


class BadState(PostcliError):
    exit_code = EXIT_BAD_STATE


class RateLimited(PostcliError):
    """The platform (or postcli's own refresh limit) says: not now."""

    exit_code = EXIT_RATE_LIMITED

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        retry_at: datetime | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.retry_after = retry_after
        self.retry_at = retry_at


class ReconnectRequired(PostcliError):
    """The account's token was revoked or expired and could not be refreshed."""

    exit_code = EXIT_RECONNECT


class StoreError(PostcliError):
    """The database cannot be used as it is (e.g. made by a newer postcli)."""


# --- errors raised by platform adapters -------------------------------------
# Adapters turn every platform/SDK/network failure into one of these.


class PlatformError(PostcliError):
    """A platform refused or failed a request. Its class says what to do about it: retrying
    helps with PlatformUnavailable and (after the reset) PlatformRateLimited only."""

    def __init__(self, message: str, *, platform: str | None = None, hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.platform = platform


class AuthFailed(PlatformError, ReconnectRequired):
    """401/revoked/expired credentials: the account must be reconnected."""

    exit_code = EXIT_RECONNECT


class PlatformRateLimited(PlatformError, RateLimited):
    exit_code = EXIT_RATE_LIMITED

    def __init__(
        self,
        message: str,
        *,
        platform: str | None = None,
        retry_after: float | None = None,
        hint: str | None = None,
    ) -> None:
        PlatformError.__init__(self, message, platform=platform, hint=hint)
        self.retry_after = retry_after
        self.retry_at = None


class RemoteNotFound(PlatformError):
    """The object (post, record) does not exist (any more) on the platform."""

    exit_code = EXIT_NOT_FOUND


class PlatformRejected(PlatformError):
    """The platform rejected the content itself (validation); retrying will not help."""

    exit_code = EXIT_USAGE


class PlatformUnavailable(PlatformError):
    """Network error, timeout, or a 5xx: the outcome is unknown, retrying may help."""


class MalformedResponse(PlatformError):
    """The platform answered with something we cannot read."""


class OutcomeUnknown(PlatformError):
    """A publish may or may not have made the post, and the platform gives this account no way
    to look (LinkedIn without read access): the target is marked unknown and nothing is sent
    again until the user says so (`post retry ID --resend`, or `--published URL` when it is
    there). The message says how to check."""
