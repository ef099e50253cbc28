"""Page parts: functions of state vars that return components."""
