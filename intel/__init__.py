"""Fraud intelligence: the scam check, the risk list of numbers and links, and followers' reports.

Domain logic with no WeChat protocol in it; `bot/` keeps the protocol.
"""
