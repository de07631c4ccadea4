"""A second sample city, built from real published data: Ichikawa (市川市, Chiba; about
490,000 people and no wards).

`build_city(folder, divisions)` copies the sample content, makes it Ichikawa's (its name,
a settings.yaml without wards: districts of towns, or no divisions at all) and imports the
city's own files from tests/data/ichikawa/ (SOURCE.md) with the real commands:

    citybot import childcare 122033_105_preschool.csv     (子育て施設一覧, 384 rows)
    citybot import shelters  122033_103_evacuation_space.csv   (指定緊急避難場所一覧, 121 rows)
    import vacancies <a table made here>                    (the city publishes none: every
                                                            nursery gets 0-2 places per class,
                                                            by its position; test data only)

then checks the folder with `citybot content check`. The sample city's garbage areas and
large-waste rules stay (they name no district once their `district:` is dropped): this
city is about where residents live, nurseries and shelters.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import yaml
from click.testing import CliRunner

from bot.cli import main
from handlers.childcare.importer import load_facilities, vacancies_from_file

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "ichikawa"
CHILDCARE = DATA / "122033_105_preschool.csv"
SHELTERS = DATA / "122033_103_evacuation_space.csv"

# Districts (地区) made of the 町字 of Ichikawa's addresses, roughly as the city groups them:
# enough for residents to pick one and for the importers to place every nursery and site.
DISTRICTS = [
    {"id": "hokubu", "name": {"ja": "北部地区", "en": "Hokubu District", "easy_ja": "ほくぶ ちく"},
     "words": ["北部", "国分", "大柏"], "centre": [35.755, 139.945],
     "towns": ["大町", "大野町", "南大野", "柏井町", "宮久保", "下貝塚", "曽谷", "国分", "中国分", "北国分", "東国分",
               "堀之内", "稲越", "稲越町", "奉免町"]},
    {"id": "chubu", "name": {"ja": "中部地区", "en": "Chubu District", "easy_ja": "ちゅうぶ ちく"},
     "words": ["中部", "八幡", "本八幡"], "centre": [35.725, 139.925],
     "towns": ["国府台", "市川", "市川南", "真間", "須和田", "新田", "平田", "大洲", "八幡", "南八幡", "菅野", "東菅野",
               "北方", "本北方", "北方町", "若宮", "鬼越", "鬼高", "高石神", "中山"]},
    {"id": "shintoku", "name": {"ja": "東部地区", "en": "Tobu District", "easy_ja": "とうぶ ちく"},
     "words": ["東部", "信篤", "大和田"], "centre": [35.705, 139.955],
     "towns": ["大和田", "東大和田", "稲荷木", "田尻", "原木", "二俣", "二俣新町", "高谷", "高谷新町", "千鳥町", "東浜"]},
    {"id": "gyotoku", "name": {"ja": "行徳地区", "en": "Gyotoku District", "easy_ja": "ぎょうとく ちく"},
     "words": ["行徳", "南行徳"], "centre": [35.680, 139.915],
     "towns": ["行徳駅前", "妙典", "本行徳", "本塩", "関ヶ島", "伊勢宿", "押切", "湊", "湊新田", "香取", "欠真間", "相之川",
               "広尾", "福栄", "新浜", "島尻", "末広", "宝", "塩焼", "幸", "入船", "日之出", "富浜", "南行徳", "新井",
               "塩浜", "河原", "下新宿"]},
]
DIVISIONS = {
    "districts": {"kind": "districts", "word": {"ja": "地区", "en": "district", "easy_ja": "ちく"}, "nearest_km": 3},
    "none": {"kind": "none"},
}
CONSENT = {
    "ja": "あなたに合ったお知らせ（ごみの日、子育て、防災など）を届けるために、いくつか登録しませんか？\n"
          "・残すのは、LINEの利用者ID、言葉、{where}ごみの収集地区、お子さんの生まれた年と月、受け取りたい情報、"
          "お知らせの時刻だけです。名前や住所は聞きません。\n・お知らせを届けるためだけに使います。\n"
          "・「データ削除」と送れば、いつでも全部消せます。\n登録しますか？ どの質問もとばせます。",
    "en": "Would you like to register a few things, so we can send you news that fits you (garbage days, childcare, "
          "disaster alerts)?\n- We keep only your LINE user ID, language, {where_en}garbage collection area, your "
          "children's birth year and month, the topics you choose and your reminder time. We never ask your name or "
          "address.\n- We use them only to send you these messages.\n- Send \"delete my data\" at any time and we "
          "delete all of it.\nRegister now? You can skip any question.",
    "easy_ja": "あなたに あう おしらせ（ごみの ひ、こそだて、さいがい など）を おくるために、とうろく しませんか？\n"
               "・のこすのは、LINEの ID、ことば、{where_easy}ごみを だす ちく、こどもの うまれた とし と つき、"
               "うけとりたい じょうほう、おしらせの じかん だけです。なまえや じゅうしょは ききません。\n"
               "・おしらせを おくる ためだけに つかいます。\n・「データを けす」と おくると、いつでも ぜんぶ けせます。\n"
               "とうろく しますか？ こたえたくない しつもんは とばせます。",
}
APPLY = {
    "ja": "空き状況は{as_of}時点のものです（この表はテスト用に作ったものです）。申し込みは、市役所のこども施設入園課へ。くわしくは {url}",
    "en": "Places are as of {as_of} (a table made up for tests). Apply at the city's nursery admissions desk. "
          "Details: {url}",
    "easy_ja": "{as_of}の じょうほう です（ためしに つくった ひょう です）。もうしこみは しやくしょ へ。くわしくは {url}",
}
OPENING = {
    "ja": "【保育園の空き】「{name}」（{ward}）の{age}クラスに空きが出ました（{as_of}時点 {places}人）。申し込みは市役所へ。",
    "en": "[Nursery place] A place opened in the {age} class at {name} ({ward}): {places} as of {as_of}. "
          "Apply at the city office.",
    "easy_ja": "【ほいくえん】{name}（{ward}）の {age}クラスが あきました（{as_of} {places}にん）。しやくしょに "
               "そうだん して ください。",
}


def _yaml(path: Path) -> dict:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _write(path: Path, data: dict) -> None:
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False, width=10_000), encoding="utf-8")


def citybot(content: Path, *args: str):
    """The real command line, on `content`; fails the caller when it fails."""
    result = CliRunner().invoke(main, list(args), env={"CONTENT_DIR": str(content), "CITYBOT_ENV": "test",
                                                       "CITYBOT_INSTANCE_DIR": str(content.parent / "instance")})
    return result


def build_city(folder: Path, divisions: str = "districts", vacancies_as_of: date | None = None) -> Path:
    """Ichikawa's content in `folder` (see the module docstring); returns it."""
    content = folder
    if content.exists():
        shutil.rmtree(content)
    shutil.copytree(ROOT / "content", content)
    (content.parent / "instance").mkdir(exist_ok=True)

    messages = _yaml(content / "messages.yaml")
    messages["city"] = {"ja": "市川市", "en": "Ichikawa City", "easy_ja": "いちかわし"}
    _write(content / "messages.yaml", messages)

    settings = _yaml(content / "settings.yaml")
    settings["divisions"] = DIVISIONS[divisions]
    settings["districts"] = DISTRICTS if divisions != "none" else []
    divided = divisions != "none"
    settings["texts"]["consent"] = {
        "ja": CONSENT["ja"].replace("{where}", "{division}、" if divided else ""),
        "en": CONSENT["en"].replace("{where_en}", "{division}, " if divided else ""),
        "easy_ja": CONSENT["easy_ja"].replace("{where_easy}", "すんでいる {division}、" if divided else ""),
    }
    _write(content / "settings.yaml", settings)

    childcare = _yaml(content / "childcare.yaml")
    childcare["apply_url"] = "https://www.city.ichikawa.lg.jp/"
    childcare["texts"]["how_to_apply"] = APPLY
    childcare["texts"]["opening"] = OPENING
    _write(content / "childcare.yaml", childcare)

    areas = _yaml(content / "garbage" / "areas.yaml")   # the sample's areas name its wards
    for area in areas["areas"]:
        area.pop("district", None)
    _write(content / "garbage" / "areas.yaml", areas)

    for stale in ("childcare/facilities.yaml", "childcare/vacancies.yaml", "disaster/shelters.yaml"):
        (content / stale).unlink()   # a new city starts with none of the sample's
    for args in (("import", "childcare", str(CHILDCARE)), ("import", "shelters", str(SHELTERS))):
        result = citybot(content, *args)
        assert result.exit_code == 0, result.output
    facilities = _yaml(content / "childcare" / "facilities.yaml")["facilities"]
    as_of = vacancies_as_of or date.today().replace(day=1)
    rows = ["facility_id,age,places,as_of"]
    for index, facility in enumerate(facilities):
        for age in facility["ages"]:
            rows.append(f"{facility['id']},{age},{(index + age) % 3},{as_of.isoformat()}")
    table = content.parent / "ichikawa_vacancies.csv"
    table.write_text("\n".join(rows) + "\n", encoding="utf-8")
    known = load_facilities(content / "childcare" / "facilities.yaml").facilities   # the command would also tell
    vacancies_from_file(table, list(known), content / "childcare" / "vacancies.yaml")  # residents: no database here
    check = citybot(content, "content", "check", str(content))
    assert check.exit_code == 0, check.output
    return content
