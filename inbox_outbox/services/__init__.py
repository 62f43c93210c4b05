"""Outbox services: local actions (web forms, API, CLI) -> state change + activities + deliveries, one
transaction each (DESIGN.md "How an outgoing activity flows"). One module per area."""
