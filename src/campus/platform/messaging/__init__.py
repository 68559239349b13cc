"""Messaging center (消息中心): notifications to people, roles, org units, classes or the whole
campus, with templates, priorities, quiet hours and channels (inbox, email, SMS, WeCom); the live
hub that pushes frames to open pages across processes; and, in sub-packages, subscription push
(accounts/) and instant messaging (im/)."""
