"""Channels: one module per platform, each turning its requests into ``Incoming``."""
