"""Disaster mode on LINE: the disaster rich menu for everyone while an incident is active.

Switching is by alias (content/richmenu.yaml `disaster: true`; `citybot richmenu sync`
points the aliases at the uploaded menus): the default rich menu becomes the one the
disaster alias names, and the main menu's again when the last incident ends. It reads the
platform's current default first, so running it again changes nothing; the desk's pages
call it right after a change, and the clock every minute (a switch lost to a LINE error
is made on the next run).
"""

from __future__ import annotations

import logging
from typing import Any

from .incidents import active

log = logging.getLogger(__name__)


class MenuNotOnLine(LookupError):
    """The alias the mode wants was never synced to LINE (`citybot richmenu sync`)."""


def wanted_alias(services: Any) -> str | None:
    content = services.content.current()
    if "richmenu" not in content.documents:
        return None
    menus = content["richmenu"]
    disaster = menus.disaster_menu
    with services.sessions() as session:
        in_disaster = bool(active(session, services.now()))
    return disaster.alias if in_disaster and disaster is not None else menus.default.alias


def sync_menu(services: Any) -> str | None:
    """Make the default rich menu the one the current mode wants; the alias switched to,
    or None when it already was. MenuNotOnLine when the menus were never synced."""
    alias = wanted_alias(services)
    if alias is None:
        return None
    messenger = services.messenger
    target = messenger.rich_menu_aliases().get(alias)
    if target is None:
        raise MenuNotOnLine(f"rich menu alias {alias!r} is not on LINE: run `citybot richmenu sync`")
    if messenger.default_rich_menu() == target:
        return None
    messenger.set_default_rich_menu(target)
    log.info("default rich menu is now %r", alias)
    return alias
