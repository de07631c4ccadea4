"""The disaster desk's place in /admin (found by bot.admin): its pages, its menu entries,
its panel on the home page and its words in the audit log and the push pages.

The pages are desk.py (incidents), desk_rooms.py (the room at open sites),
desk_broadcasts.py (broadcasts) and safety_desk.py (安否・避難報告), on the admin blueprint
like every page; their templates and scripts stay in this package (page_files). The one
page outside /admin, a site's staff link (site_link.py), is a public_page.
"""

from __future__ import annotations

from bot.admin import home_panel, nav_item, page_files

from . import desk, desk_broadcasts, desk_rooms, safety_desk, site_link, words  # noqa: F401 - the routes, the sentences and titles

files = page_files(__name__)
nav_item("災害・避難情報", "admin.incidents", "view",
         "発令中の災害・避難情報を確認し、発令・変更・解除を行います。")
nav_item("避難所の混雑状況", "admin.shelter_rooms", "view",
         "開設中の避難所の状態（空きあり・混雑・満員・閉鎖）を確認し、更新します。")
nav_item("緊急配信", "admin.broadcasts", "view",
         "災害時のお知らせを作成し、別の職員の承認を得て住民に送ります。")
nav_item("安否・避難報告", "admin.safety", "view",
         "住民が知らせた安否・避難の状況を区ごとに数え、助けが必要な方を確認します。")
home_panel("admin/desk_home.html", desk.home)
