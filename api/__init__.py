"""`returnee api`: the read API a city platform pulls from, and the dashboard for the levels
above the grid. A separate process on the same database as the bot."""
