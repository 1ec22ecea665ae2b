"""Planning: which machines to serve, when, with what — and the routes that do it."""
