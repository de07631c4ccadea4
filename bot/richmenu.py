"""The rich menu: the panel of big buttons under the chat, for residents who only tap.

Declared in content/richmenu.yaml (areas and their postback actions); the image is
rendered from the same YAML (`citybot richmenu render`, needs a Japanese font) and
shipped, so what a button says and what it does cannot drift apart. `citybot richmenu
sync` creates every menu on the platform, uploads its image, points its alias at it
(later features switch menus by alias) and makes the default one the default.
"""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable, Mapping

from .content.models import RichMenu, RichMenuContent
from .content.store import Content
from .content.yamlfile import Problem, YamlDocument
from .messenger import LineError, Messenger

if TYPE_CHECKING:  # Pillow is imported where an image is read or drawn: every start checks content, few draw
    from PIL import ImageDraw, ImageFont

log = logging.getLogger(__name__)

MAX_IMAGE_BYTES = 1024 * 1024
FONT_CANDIDATES = (
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Bold.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/fonts-japanese-gothic.ttf",
)


def line_object(menu: RichMenu) -> dict[str, Any]:
    """The rich menu as the Messaging API's RichMenuRequest expects it."""
    areas = []
    for area in menu.areas:
        action: dict[str, Any] = {"type": "postback", "label": area.label.ja[:20], "data": area.postback}
        if area.display:
            action["displayText"] = area.display.ja
        areas.append({"bounds": area.bounds.model_dump(), "action": action})
    return {"size": {"width": menu.width, "height": menu.height}, "selected": True, "name": menu.name,
            "chatBarText": menu.chat_bar_text, "areas": areas}


def image_path(content_root: Path, menu: RichMenu) -> Path:
    return Path(content_root) / menu.image


def check_rich_menu_images(content: Content, sources: Mapping[str, YamlDocument]) -> Iterable[Problem]:
    menus: RichMenuContent = content["richmenu"]
    for index, menu in enumerate(menus.menus):
        loc = ("menus", index, "image")
        path = image_path(content.root, menu)
        if not path.is_file():
            yield sources["richmenu"].problem(loc, f"image {menu.image} not found (run `citybot richmenu render`)")
            continue
        data = path.read_bytes()
        from PIL import Image

        if len(data) > MAX_IMAGE_BYTES:
            yield sources["richmenu"].problem(loc, f"image {menu.image} is {len(data)} bytes; LINE takes 1 MB")
        try:
            with Image.open(io.BytesIO(data)) as img:
                fmt, size = img.format, img.size
        except Exception:  # noqa: BLE001 - any unreadable image is the same problem
            yield sources["richmenu"].problem(loc, f"image {menu.image} is not a PNG or JPEG")
            continue
        if fmt not in ("PNG", "JPEG"):
            yield sources["richmenu"].problem(loc, f"image {menu.image} is {fmt}; LINE takes PNG or JPEG")
        if size != (menu.width, menu.height):
            yield sources["richmenu"].problem(loc, f"image {menu.image} is {size[0]}x{size[1]}, the menu says "
                                                   f"{menu.width}x{menu.height}")


def find_font(explicit: str | None = None) -> str:
    for candidate in ([explicit] if explicit else []) + list(FONT_CANDIDATES):
        if candidate and Path(candidate).is_file():
            return candidate
    raise FileNotFoundError("no Japanese font found; install fonts-noto-cjk or pass --font")


def render(menu: RichMenu, font_path: str) -> bytes:
    """Draw each area as a tile with its Japanese label and, smaller, the English one."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (menu.width, menu.height), "#FFFFFF")
    draw = ImageDraw.Draw(img)
    for area in menu.areas:
        b = area.bounds
        draw.rectangle([b.x + 6, b.y + 6, b.x + b.width - 7, b.y + b.height - 7], fill=area.color, outline="#FFFFFF")
        room = b.width * 0.86
        big = _fitting(draw, area.label.ja, font_path, max(40, b.height // 4), room)
        small = _fitting(draw, area.label.en, font_path, max(28, b.height // 9), room)
        cx, cy = b.x + b.width / 2, b.y + b.height / 2
        draw.text((cx, cy - big.size * 0.35), area.label.ja, font=big, fill="#FFFFFF", anchor="mm")
        draw.text((cx, cy + big.size * 0.75), area.label.en, font=small, fill="#FFFFFF", anchor="mm")
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    return out.getvalue()


def _fitting(draw: ImageDraw.ImageDraw, text: str, font_path: str, size: int, width: float) -> ImageFont.FreeTypeFont:
    """The largest font up to `size` in which `text` fits `width` pixels."""
    from PIL import ImageFont

    font = ImageFont.truetype(font_path, size=size)
    while size > 12 and draw.textlength(text, font=font) > width:
        size = int(size * 0.92)
        font = ImageFont.truetype(font_path, size=size)
    return font


def sync(messenger: Messenger, content: Content) -> dict[str, str]:
    """Create, upload, alias and set the default; returns alias -> new rich menu id.

    Menus the aliases pointed at before are deleted afterwards, so syncing again after a
    content change leaves exactly one live menu per alias.
    """
    menus: RichMenuContent = content["richmenu"]
    previous = messenger.rich_menu_aliases()
    created: dict[str, str] = {}
    for menu in menus.menus:
        path = image_path(content.root, menu)
        rich_menu_id = messenger.create_rich_menu(line_object(menu))
        messenger.upload_rich_menu_image(rich_menu_id, path.read_bytes(),
                                         "image/jpeg" if path.suffix.lower() in (".jpg", ".jpeg") else "image/png")
        messenger.put_rich_menu_alias(menu.alias, rich_menu_id)
        created[menu.alias] = rich_menu_id
    messenger.set_default_rich_menu(created[menus.default.alias])
    for alias, old_id in previous.items():
        if alias in created and old_id != created[alias]:
            try:
                messenger.delete_rich_menu(old_id)
            except LineError as err:
                log.warning("old rich menu %s not deleted: %s", old_id, err)
    return created
