"""Figures for the people who look after an area: the daily report (日报告) and its roll-up,
and the 14-day history behind the weekly chart. Plain queries and pure rendering, no chat:
the report job, its tests and the benchmarks all call the same functions."""
