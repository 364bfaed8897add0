"""award_jury: run startup awards end to end (call for entries, jury scoring, rankings, certificates).

The layers and where each rule lives: docs/architecture.md.
"""
