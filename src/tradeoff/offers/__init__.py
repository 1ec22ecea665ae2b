"""Offers: campaigns, the decision engine, coupons and their delivery to the shopper's app."""
