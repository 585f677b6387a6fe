"""Channels: each turns one kind of traffic (email, web form, chat, phone, SMS) into case actions.

A channel lives in `caseloop/channels/<kind>/` as its own Django app and
registers one adapter in `caseloop.channels.registry` from its AppConfig.ready().
Channels sit above `caseloop.cases` (they call its actions) and below the web
and API layers.
"""
