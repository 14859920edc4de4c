from tests.webhook_server import hook

__all__ = ["hook"]
