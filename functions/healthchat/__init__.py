"""HealthChat: the shared package behind every Lambda handler, the CLI and the embedded runtime."""

__version__ = "0.1.0"
