"""Per-column demand forecasts: weekday pattern, intermittent demand, uncertainty.

``model`` (ColumnForecast, what planning reads; no heavy imports), ``history`` (grids, weekday profiles,
outages, spreading a multi-day delta), ``batch`` (statsforecast over many series), ``fit`` (model choice
and assembly), ``backtest`` (rolling-origin evaluation on the simulated fleet). Import ``fit`` directly:
it pulls in statsforecast, which ``model`` users should not pay for.
"""
