"""Tracking (客户跟踪与反馈): alerts raised for relationship managers, and customer feedback."""
