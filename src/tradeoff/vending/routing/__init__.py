"""The routing layer: one problem model, solved by PyVRP, checked independently of any solver.

Public API: ``problem`` (``RoutingProblem``, ``Stop``, ``Vehicle``, ``Route``, ``RoutingSolution``),
``solver.solve``, ``checker.check``, ``cvrplib.load_instance`` / ``load_solution``. See docs/vending-routing.md.
"""
