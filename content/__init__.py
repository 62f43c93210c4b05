"""What people write and do together: posts, threads, votes and their read models (docs/DESIGN.md §2).

Domain rules and rows live here; inbox_outbox turns them into activities and deliveries and calls in.
"""
