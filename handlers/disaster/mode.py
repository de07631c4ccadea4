"""Disaster mode on LINE: the disaster rich menu for everyone while an incident is active.

Switching is by alias (content/richmenu.yaml `mode: disaster`; `citybot richmenu sync`
points the aliases at the uploaded menus): the default rich menu becomes the one for this
mode, and the main menu's again when the last incident ends. It reads the platform's
current default first, so running it again changes nothing; the desk's pages call it
right after a change, and the clock every minute (`follow_incidents`, the intent's job:
a switch lost to a LINE error is made on the next run).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.content.store import Content

from .incidents import active

log = logging.getLogger(__name__)

MODE = "disaster"  # the menu of content/richmenu.yaml with `mode: disaster`


class MenuNotOnLine(LookupError):
    """The alias the mode wants was never synced to LINE (`citybot richmenu sync`)."""


def wanted(content: Content, session: Session, now: datetime) -> str | None:
    """The alias the default rich menu should be now; None without rich menus."""
    if "richmenu" not in content.documents:
        return None
    menus = content["richmenu"]
    menu = menus.menu_for(MODE)
    return menu.alias if menu is not None and active(session, now) else menus.default.alias


def wanted_alias(services: Any) -> str | None:
    with services.sessions() as session:
        return wanted(services.content.current(), session, services.now())


def switch_to(messenger: Any, alias: str | None) -> str | None:
    """Make `alias` the default rich menu; the alias switched to, or None when it already was."""
    if alias is None:
        return None
    target = messenger.rich_menu_aliases().get(alias)
    if target is None:
        raise MenuNotOnLine(f"rich menu alias {alias!r} is not on LINE: run `citybot richmenu sync`")
    if messenger.default_rich_menu() == target:
        return None
    messenger.set_default_rich_menu(target)
    log.info("default rich menu is now %r", alias)
    return alias


def sync_menu(services: Any) -> str | None:
    """Make the default rich menu the one the current mode wants; the alias switched to,
    or None when it already was. MenuNotOnLine when the menus were never synced."""
    return switch_to(services.messenger, wanted_alias(services))


def follow_incidents(session: Session, now: datetime, content: Content, messenger: Any) -> None:
    """The clock's job, every minute (registered with catch_up=False: only the present
    matters, so a firing asks LINE once and the clock's start asks nothing). A failure is
    logged and tried again a minute later."""
    try:
        switch_to(messenger, wanted(content, session, now))
    except Exception:  # noqa: BLE001 - retried on the next run
        log.exception("switching the rich menu failed; trying again in a minute")
