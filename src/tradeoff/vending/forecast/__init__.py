"""Per-column demand forecasts: weekday pattern, intermittent demand, uncertainty."""
