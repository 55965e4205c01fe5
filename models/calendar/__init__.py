"""The calendar: festivals (solar and lunar), statutory 放假调休 arrangements, working days.

Pure functions and data, no I/O beyond reading the shipped and added arrangement files.
"""
