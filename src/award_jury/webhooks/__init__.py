"""Webhooks (SPEC §5): organisers' endpoints per award, an outbox of deliveries written in the
same transaction as the change they report, and a dispatcher that signs and sends them."""
