"""The outbox (DESIGN §3): queueing and recall (``queue``), the delivery worker (``worker``)."""
