"""A Python (asyncio) client for kinto-push, and a verifier for its webhooks."""

from .backoff import Backoff
from .client import Client
from .errors import (ForbiddenError, KintoPushError, ProtocolError, StateFileError,
                     SubscriptionError, UnauthorizedError, WebhookVerificationError)
from .position import Position
from .state_file import StateFile

__version__ = "1.0.0"
__all__ = ["Backoff", "Client", "ForbiddenError", "KintoPushError", "Position",
           "ProtocolError", "StateFile", "StateFileError", "SubscriptionError",
           "UnauthorizedError", "WebhookVerificationError"]
