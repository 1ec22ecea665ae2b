"""Vending: DEX audits and telemetry → per-column stock and forecasts → automatic dispatch.

Subpackages: ``dex`` (EVA-DTS parsing), ``routing`` (the routing layer over PyVRP), ``irp`` (inventory
routing benchmark and model), ``forecast`` (per-column demand), ``planning`` (who, when, what), plus the
fleet model and stock in ``store``/``fleet``/``stock``.
"""
