"""The routing layer: one problem model, solved by PyVRP, checked independently of any solver."""
