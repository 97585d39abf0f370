"""SNS Official social-media accounts."""
from social.views import bp  # noqa: F401
