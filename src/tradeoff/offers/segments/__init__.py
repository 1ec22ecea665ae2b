"""Audience segments: the merchant's catalogue and the segments each shopper chose to release."""
