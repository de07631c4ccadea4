"""Disaster preparedness content: where residents go when a disaster comes.

`shelters` holds the designated emergency evacuation sites (指定緊急避難場所) of
content/disaster/shelters.yaml, which `citybot import shelters` writes from the city's
open data, and finds the nearest ones for a hazard.
"""
