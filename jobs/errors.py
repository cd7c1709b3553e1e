"""Governance errors: expected refusals with a machine-readable `code`, under the one
`ClientStrataError` hierarchy (unknown ids stay `graph.errors.NotFound`, code NOT_FOUND)."""

from __future__ import annotations

from clientstrata.graph.errors import ClientStrataError, InvalidInput, NotFound

__all__ = [
    "GovernanceError",
    "MakerIsChecker",
    "InvalidState",
    "InvalidValue",
    "UnknownDimension",
    "ReasonRequired",
    "ActorRequired",
    "FeaturesOutOfMemory",
    "NotFound",
]


class GovernanceError(ClientStrataError):
    """A governance rule refused the request; the message says which and why."""

    code = "GOVERNANCE"


class MakerIsChecker(GovernanceError):
    """The person deciding an override is the one who proposed it (maker–checker)."""

    code = "MAKER_IS_CHECKER"


class InvalidState(GovernanceError):
    """The object is not in a state that allows this step (e.g. approving a rejected override)."""

    code = "INVALID_STATE"


class InvalidValue(InvalidInput):
    """A value the current standard does not allow."""

    code = "INVALID_VALUE"


class UnknownDimension(InvalidValue):
    code = "UNKNOWN_DIMENSION"


class ReasonRequired(InvalidInput):
    code = "REASON_REQUIRED"


class ActorRequired(InvalidInput):
    code = "ACTOR_REQUIRED"


class FeaturesOutOfMemory(ClientStrataError):
    """The features query needed more than its memory bound and could not spill enough."""

    code = "FEATURES_OUT_OF_MEMORY"
