"""Activity semantics: the inbox pipeline and handlers, the outbox, group fan-out, delivery."""
