"""Hostile input and faults: what the console does when things go wrong around it."""
