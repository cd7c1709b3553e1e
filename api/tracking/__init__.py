"""Tracking and feedback (客户跟踪与反馈): alerts routed to RMs, their acknowledgement, and
customer feedback."""
