"""Delivery of offers to the shopper's app: signed webhooks from the outbox (with retries), the pull API
(list, long-poll, SSE, QR), receipts (delivered / displayed / opened). See docs/offers-delivery.md."""
