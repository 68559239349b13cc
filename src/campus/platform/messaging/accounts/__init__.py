"""Subscription push (服务系统 · 订阅推送): service accounts (教务处, 图书馆, a college…) publish
posts to their subscribers; some accounts are mandatory for an audience; posts are pushed at once
(live to open pages, Web Push to installed PWAs) and their unique readers counted."""
