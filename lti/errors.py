"""What can go wrong with an LTI message, as types the core turns into clear 4xx pages."""

from __future__ import annotations

from lms_core.errors import Problem, ShiftwellError


class LaunchRejected(ShiftwellError):
    """The LMS's message is not acceptable: forged, replayed, expired or incomplete.

    The page tells the person what happened and whom to ask; the log says why, without
    the token.
    """

    status = 400
    title = "This launch could not be accepted"

    def __init__(self, reason: str, *, hint: str | None = None) -> None:
        detail = (
            "Shiftwell could not verify the link you followed from your learning system, so "
            "it did not log you in. Go back to your course in the learning system and open "
            "the Shiftwell link again; if it keeps happening, tell your education department."
        )
        super().__init__(detail, [Problem(reason, "LTI launch", hint)])
        self.reason = reason


class RegistrationNotFound(ShiftwellError):
    """The issuer / client id is not registered with this Shiftwell (LTI 1.3 §5.1.1)."""

    status = 400
    title = "This learning system is not registered with Shiftwell"

    def __init__(self, issuer: str | None, client_id: str | None) -> None:
        who = f"issuer {issuer!r}" + (f" with client id {client_id!r}" if client_id else "")
        super().__init__(
            f"Shiftwell does not know the learning system that sent you here ({who}). "
            "Ask your Shiftwell operator to register it: `shiftwell lti add-platform`, the "
            "operator page, or LTI Dynamic Registration (see docs/lti.md).",
        )
        self.reason = f"unknown {who}"


class RegistrationInactive(ShiftwellError):
    status = 403
    title = "This learning system is not enabled yet"

    def __init__(self, issuer: str, pending: bool) -> None:
        why = (
            "its registration is waiting for the Shiftwell operator's approval"
            if pending
            else "the Shiftwell operator has disabled its registration"
        )
        super().__init__(f"Shiftwell is registered with {issuer}, but {why}.")
        self.reason = why


class DeploymentNotFound(ShiftwellError):
    status = 400
    title = "This Shiftwell installation is not registered"

    def __init__(self, issuer: str, deployment_id: str) -> None:
        super().__init__(
            f"The learning system {issuer} launched from deployment {deployment_id!r}, which "
            "is not registered with Shiftwell. Ask your Shiftwell operator to add it: "
            "`shiftwell lti add-platform ... --deployment-id ID` or the operator page.",
        )
        self.reason = f"unknown deployment {deployment_id!r}"


class PlatformUnavailable(ShiftwellError):
    """The LMS did not answer (keys, tokens, services): not the person's fault."""

    status = 502
    title = "Your learning system did not answer"

    def __init__(self, detail: str) -> None:
        super().__init__(
            f"Shiftwell could not reach your learning system: {detail}. Please try again in "
            "a minute; if it keeps happening, tell your education department."
        )
        self.reason = detail


class RegistrationRefused(ShiftwellError):
    """Dynamic registration could not be completed with what the LMS offered."""

    status = 400
    title = "Shiftwell could not register with this learning system"
