"""The fake LINE platform's rich menus: menus, their images, the default, per-user links
and aliases, as LINE keeps them and refuses them.

A mixin of `FakeLine` (state.py): it runs under FakeLine's lock, on FakeLine's dicts.
"""

from __future__ import annotations

import secrets
import threading
from typing import Any, Iterable

from bot.fakeline.records import (
    IMAGE_TYPES,
    MAX_IMAGE_BYTES,
    FakeLineSettings,
    RichMenu,
    User,
    bad_request,
    image_format,
    not_found,
)


class RichMenus:
    """Rich menu endpoints and `menu_shown_to` (what a user's chat shows)."""

    settings: FakeLineSettings
    _lock: threading.RLock
    _users: dict[str, User]
    _rich_menus: dict[str, RichMenu]
    _user_menus: dict[str, str]
    _default_menu: str | None
    _aliases: dict[str, str]

    def user(self, user_id: str) -> User:
        raise NotImplementedError  # FakeLine's

    def _menu(self, rich_menu_id: str) -> RichMenu:
        menu = self._rich_menus.get(rich_menu_id)
        if menu is None:
            raise not_found()
        return menu

    def _menu_with_image(self, rich_menu_id: str) -> RichMenu:
        menu = self._menu(rich_menu_id)
        if menu.image is None:
            raise bad_request("must upload richmenu image before applying it to user")
        return menu

    def create_rich_menu(self, definition: dict[str, Any]) -> dict[str, str]:
        rich_menu_id = "richmenu-" + secrets.token_hex(16)
        with self._lock:
            self._rich_menus[rich_menu_id] = RichMenu(rich_menu_id, dict(definition))
        return {"richMenuId": rich_menu_id}

    def rich_menu(self, rich_menu_id: str) -> dict[str, Any]:
        with self._lock:
            return self._menu(rich_menu_id).to_dict()

    def rich_menus(self) -> dict[str, Any]:
        with self._lock:
            return {"richmenus": [m.to_dict() for m in self._rich_menus.values()]}

    def delete_rich_menu(self, rich_menu_id: str) -> None:
        """Also unlinks it from users and stops it being the default. Aliases that point
        to it are left in place (switching to them then fails on the device)."""
        with self._lock:
            self._menu(rich_menu_id)
            del self._rich_menus[rich_menu_id]
            self._user_menus = {u: m for u, m in self._user_menus.items() if m != rich_menu_id}
            if self._default_menu == rich_menu_id:
                self._default_menu = None

    def upload_rich_menu_image(self, rich_menu_id: str, data: bytes, content_type: str) -> None:
        mime = (content_type or "").split(";")[0].strip().lower()
        with self._lock:
            menu = self._menu(rich_menu_id)
            if menu.image is not None:
                raise bad_request("An image has already been uploaded to the richmenu")
            self._check_image(menu, data, mime)
            menu.image, menu.image_type = data, mime

    def _check_image(self, menu: RichMenu, data: bytes, mime: str) -> None:
        if mime not in IMAGE_TYPES:
            raise bad_request("The Content-Type must be image/jpeg or image/png")
        if not data:
            raise bad_request("The request body is empty")
        if len(data) > MAX_IMAGE_BYTES:
            raise bad_request("The image is larger than 1 MB")
        found = image_format(data)
        if found is None or found[0] != IMAGE_TYPES[mime]:
            raise bad_request(f"The image is not a valid {IMAGE_TYPES[mime]} file")
        size = menu.definition.get("size") or {}
        expected = (size.get("width"), size.get("height"))
        if self.settings.check_image_size and found[1] != expected:
            raise bad_request(f"The image size {found[1][0]}x{found[1][1]} does not match "
                              f"the rich menu size {expected[0]}x{expected[1]}")

    def rich_menu_image(self, rich_menu_id: str) -> tuple[bytes, str]:
        with self._lock:
            menu = self._menu(rich_menu_id)
            if menu.image is None:
                raise not_found()
            return menu.image, menu.image_type or "application/octet-stream"

    def set_default_rich_menu(self, rich_menu_id: str) -> None:
        with self._lock:
            self._menu_with_image(rich_menu_id)
            self._default_menu = rich_menu_id

    def default_rich_menu(self) -> dict[str, str]:
        with self._lock:
            if self._default_menu is None:
                raise not_found("no default richmenu")
            return {"richMenuId": self._default_menu}

    def cancel_default_rich_menu(self) -> None:
        with self._lock:
            self._default_menu = None

    def link_rich_menu(self, user_id: str, rich_menu_id: str) -> None:
        with self._lock:
            self._menu_with_image(rich_menu_id)
            if user_id not in self._users:
                raise not_found()
            self._user_menus[user_id] = rich_menu_id

    def bulk_link_rich_menu(self, rich_menu_id: str, user_ids: list[str]) -> None:
        """Unknown user ids are skipped (LINE processes bulk links asynchronously)."""
        with self._lock:
            self._menu_with_image(rich_menu_id)
            for user_id in user_ids:
                if user_id in self._users:
                    self._user_menus[user_id] = rich_menu_id

    def unlink_rich_menu(self, user_ids: Iterable[str]) -> None:
        with self._lock:
            for user_id in user_ids:
                self._user_menus.pop(user_id, None)

    def user_rich_menu_id(self, user_id: str) -> dict[str, str]:
        """The menu linked to this user by id (not the default), as LINE answers it."""
        with self._lock:
            if user_id not in self._user_menus:
                raise not_found("the user has no richmenu")
            return {"richMenuId": self._user_menus[user_id]}

    def create_alias(self, alias_id: str, rich_menu_id: str) -> None:
        with self._lock:
            if alias_id in self._aliases:
                raise bad_request("conflict richmenu alias id")
            if rich_menu_id not in self._rich_menus:
                raise bad_request("richmenu not found")
            self._aliases[alias_id] = rich_menu_id

    def update_alias(self, alias_id: str, rich_menu_id: str) -> None:
        with self._lock:
            if alias_id not in self._aliases:
                raise bad_request("richmenu alias not found")
            if rich_menu_id not in self._rich_menus:
                raise bad_request("richmenu not found")
            self._aliases[alias_id] = rich_menu_id

    def delete_alias(self, alias_id: str) -> None:
        with self._lock:
            if alias_id not in self._aliases:
                raise bad_request("richmenu alias not found")
            del self._aliases[alias_id]

    def alias(self, alias_id: str) -> dict[str, str]:
        with self._lock:
            if alias_id not in self._aliases:
                raise not_found("richmenu alias not found")
            return {"richMenuAliasId": alias_id, "richMenuId": self._aliases[alias_id]}

    def aliases(self) -> dict[str, Any]:
        with self._lock:
            return {"aliases": [{"richMenuAliasId": a, "richMenuId": m}
                                for a, m in self._aliases.items()]}

    def menu_shown_to(self, user_id: str) -> dict[str, Any] | None:
        """What the user's chat shows: the menu linked to them, else the default."""
        with self._lock:
            self.user(user_id)
            rich_menu_id = self._user_menus.get(user_id) or self._default_menu
            if rich_menu_id is None or rich_menu_id not in self._rich_menus:
                return None
            return {"richMenuId": rich_menu_id,
                    "richMenu": self._rich_menus[rich_menu_id].to_dict(),
                    "imageUrl": f"/__fake__/richmenu/{rich_menu_id}/image"}
