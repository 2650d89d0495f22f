"""The channels regwatch delivers on: one module each, one registry line each.

Adding a channel: a module here with a :class:`~services.notifier.channels.base.Channel`
subclass, its line in ``CHANNELS``, and its tests (see the README's "Add a channel").
"""

from __future__ import annotations

from typing import Final

from services.notifier.channels.base import Channel, Rate, Senders, SendResult, Target, failed
from services.notifier.channels.dingtalk import DingTalkChannel
from services.notifier.channels.email import EmailChannel
from services.notifier.channels.feishu import FeishuChannel
from services.notifier.channels.slack import SlackChannel
from services.notifier.channels.teams import TeamsChannel
from services.notifier.channels.webhook import WebhookChannel
from services.notifier.channels.wecom import WeComChannel

__all__ = ["CHANNELS", "Channel", "Rate", "SendResult", "Senders", "Target", "channel", "failed"]

CHANNELS: Final[dict[str, Channel]] = {
    channel.name: channel
    for channel in (
        EmailChannel(),
        WebhookChannel(),
        DingTalkChannel(),
        WeComChannel(),
        FeishuChannel(),
        SlackChannel(),
        TeamsChannel(),
    )
}


def channel(name: str) -> Channel | None:
    """The channel of that name, or None (a row of a channel this version does not know)."""
    return CHANNELS.get(name)
