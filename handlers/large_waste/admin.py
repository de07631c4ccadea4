"""粗大ごみ予約 in /admin: a collection day's bookings, one booking, and what the office does for a caller.

Everyone with `view` sees a day's bookings (number, area, place, items, fee) and moves
to the previous or next collection day. The name, address and phone a booking keeps
for the crew are personal data: only the `bookings` permission (desk, admin — the staff
who answer the phone) sees them on these pages and downloads the crews' CSV, and each
look at one booking's contact and each download is in the audit log.

A resident who phones is found by the booking number they read out (or by the day), and
staff change the day or cancel for them (staff.py): audited with the
number — the audit log never holds the name, address or phone — and told to the
resident by a push in their language.
"""

from __future__ import annotations

import io
import re
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, flash, redirect, render_template, request, url_for
from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import BooleanField, SelectField
from wtforms.validators import DataRequired

from bot.admin import bp, db, nav_item, now, page_files, services
from bot.admin.audit import audit
from bot.admin.ids import stored_id
from bot.admin.overview import day_label
from bot.admin.roles import add_permission, can, requires
from bot.admin.sentences import _d, _number, sentence
from bot.admin.sentences import _day as _said_day
from bot.admin.titles import KIND_LABELS, title
from bot.content.store import Content
from bot.profile import areas as garbage_areas

from . import contact_data as lc
from . import domain as lw
from . import staff

add_permission("bookings", "粗大ごみ予約の対応（氏名・住所・電話）", roles=("desk",))  # the staff who answer the phone
files = page_files(__name__)
KIND_LABELS["booking"] = "粗大ごみ予約のお知らせ"
nav_item("粗大ごみ予約", "admin.bookings", "view",
         "収集日ごとの粗大ごみの予約を一覧し、電話での変更・取り消しを受け付け、収集担当用のCSVを出力します。")

STATUS_LABELS: dict[str, str] = {lw.BookingStatus.BOOKED: "予約済み", lw.BookingStatus.CANCELLED: "取消"}
SEARCH_DAYS = 120                        # how far the previous/next collection day links look
DAY_RANGE = timedelta(days=3653)         # a day asked for: at most ten years before or after today


def _tz() -> ZoneInfo:
    return ZoneInfo(services().config.timezone)


def _today() -> date:
    return now().astimezone(_tz()).date()


def _rules() -> lw.RulesFile:
    return lw.rules_of(services().content.current())


def _area_names() -> dict[str, str]:
    return {a.id: a.name.ja for a in garbage_areas(services().content.current()).all}


# -- a day's bookings --------------------------------------------------------------------------------
def _asked_day(value: str | None) -> tuple[date | None, str | None]:
    """(the day asked for, None) or (None, why not). A day more than DAY_RANGE from today
    is refused: no booking is that far off, and the previous/next links would step past
    the calendar's end (9999-12-31)."""
    if not value:
        return None, None
    try:
        day = date.fromisoformat(value)
    except ValueError:
        return None, f"日付「{value}」を読み取れません。YYYY-MM-DD の形で選んでください。"
    first, last = _today() - DAY_RANGE, _today() + DAY_RANGE
    if not first <= day <= last:
        return None, (f"日付「{value}」は選べません。{first.isoformat()} から {last.isoformat()} "
                      "までの日付を選んでください。")
    return day, None


def _collection_day(rules: lw.RulesFile, area: str | None, day: date) -> bool:
    wanted = [area] if area else list(rules.days)
    return any(rules.is_collection_day(a, day) for a in wanted)


def _step(rules: lw.RulesFile, area: str | None, day: date, step: int) -> date | None:
    """The collection day before (step -1) or after (+1) `day`, for the area or any area."""
    for n in range(1, SEARCH_DAYS + 1):
        other = day + timedelta(days=step * n)
        if _collection_day(rules, area, other):
            return other
    return None


@bp.get("/bookings")
@requires("view")
def bookings():
    rules = _rules()
    area = request.args.get("area") or None
    day, error = _asked_day(request.args.get("date"))
    if day is None:
        today = _today()
        day = today if _collection_day(rules, area, today) else (_step(rules, area, today, +1) or today)
    names = _area_names()
    found = lw.bookings_on(db(), day, area)
    contacts = lw.contacts_of(db(), found) if can("bookings") else {}
    rows = [{"booking": b, "area_name": names.get(b.area, b.area), "contact": contacts.get(b.id),
             "status_label": STATUS_LABELS.get(b.status, b.status)} for b in found]
    booked = [b for b in found if b.status == lw.BookingStatus.BOOKED]
    return render_template(
        "admin/bookings.html", rows=rows, day=day, area=area, error=error, query=request.args.get("q", ""),
        area_choices=[(a, names.get(a, a)) for a in rules.days], shown_phone=lc.shown_phone,
        previous=_step(rules, area, day, -1), next=_step(rules, area, day, +1),
        is_collection_day=_collection_day(rules, area, day),
        summary={"count": len(booked), "pieces": sum(int(i["quantity"]) for b in booked for i in b.items),
                 "fees": sum(b.total_fee for b in booked)}), 400 if error else 200


@bp.get("/bookings.csv")
@requires("bookings")
def bookings_csv():
    day, _error = _asked_day(request.args.get("date"))
    if day is None:
        abort(400)
    area = request.args.get("area") or None
    rows = lw.export_rows(db(), day, area)
    out = io.StringIO()
    lw.write_csv(rows, out)
    audit("bookings.export", f"date:{day}", {"area": area or "all", "rows": len(rows)})
    db().commit()
    suffix = re.sub(r"[^A-Za-z0-9_-]", "", area or "")
    filename = f"large-waste-{day.isoformat()}{'-' + suffix if suffix else ''}.csv"
    # UTF-8 with a BOM: Excel (what the crews open it with) reads Japanese correctly then
    return Response("\ufeff" + out.getvalue(), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


# -- finding one -------------------------------------------------------------------------------------
@bp.get("/bookings/find")
@requires("view")
def booking_find():
    """The search box: a booking number (or its last digits) opens the booking, a day its list."""
    typed = (request.args.get("q") or "").strip()[:40]
    booking = staff.find_number(db(), typed) if typed else None
    if booking is not None:
        return redirect(url_for("admin.booking", booking_id=booking.id))
    day = staff.typed_day(typed, _today())
    if day is not None and _asked_day(day.isoformat())[0] is not None:
        return redirect(url_for("admin.bookings", date=day.isoformat()))
    flash(f"「{typed}」に当たる予約は見つかりませんでした。受付番号（LW-2026-000123 または 123）か、"
          "収集日（2026-12-15、12/15）で探してください。" if typed else "受付番号か収集日を入れてください。", "warning")
    return redirect(url_for("admin.bookings"))


class MoveForm(FlaskForm):
    day = SelectField("新しい収集日", validators=[DataRequired("新しい収集日を選んでください。")])


class CancelForm(FlaskForm):
    sure = BooleanField("住民から取り消しの依頼を受け、受付番号と収集日を確かめました",
                        validators=[DataRequired("確かめたら、チェックを入れてください。")])


def _booking(booking_id: int) -> lw.LargeWasteBooking:
    row = db().get(lw.LargeWasteBooking, booking_id) if stored_id(booking_id) is not None else None
    if row is None:
        abort(404)
    return row


def _move_form(booking: lw.LargeWasteBooking, formdata: bool = False) -> MoveForm:
    form = MoveForm() if formdata else MoveForm(formdata=None)
    days = staff.new_days(db(), _rules(), booking, now(), _tz())
    form.day.choices = [(d.isoformat(), day_label(d)) for d in days]
    return form


def _page(booking: lw.LargeWasteBooking, status: int = 200, move_form: MoveForm | None = None,
          cancel_form: CancelForm | None = None):
    rules, tz = _rules(), _tz()
    contact = None
    if can("bookings"):
        contact = db().get(lw.LargeWasteContact, booking.id)
        audit("booking.view", f"booking:{booking.number}", {"contact": contact is not None})
        db().commit()
    values: dict[str, Any] = {
        "b": booking, "contact": contact, "area_name": _area_names().get(booking.area, booking.area),
        "status_label": STATUS_LABELS.get(booking.status, booking.status), "shown_phone": lc.shown_phone,
        "keep_until": lc.keep_until(rules, booking, tz), "keep_days": rules.contact.keep_days,
        "open": staff.open_to_staff(booking, now(), tz),
        "past_cutoff": staff.past_resident_cutoff(rules, booking, now(), tz),
        "move_form": move_form or _move_form(booking), "cancel_form": cancel_form or CancelForm(formdata=None),
    }
    return render_template("admin/booking.html", **values), status


@bp.get("/bookings/<id:booking_id>")
@requires("view")
def booking(booking_id: int):
    return _page(_booking(booking_id))


@bp.post("/bookings/<id:booking_id>/move")
@requires("bookings")
def booking_move(booking_id: int):
    row = _booking(booking_id)
    form = _move_form(row, formdata=True)
    if not staff.open_to_staff(row, now(), _tz()):
        flash("この予約は変更できません（取り消し済みか、収集日を過ぎています）。", "error")
        return _page(row, 409, move_form=form)
    if not form.validate_on_submit():
        return _page(row, 400, move_form=form)
    was, day = row.date, date.fromisoformat(form.day.data)
    outcome = staff.move(db(), services().content.current(), row, day, now(), _tz())
    if outcome.status != "booked":
        db().rollback()
        flash("その日は予約がいっぱいになったか、選べなくなりました。ほかの日を選んでください。", "error")
        return _page(_booking(booking_id), 409)
    audit("booking.move", f"booking:{row.number}", {"area": row.area, "from": was.isoformat(), "to": day.isoformat()})
    db().commit()
    flash(f"{row.number} の収集日を {day_label(was)} から {day_label(day)} に変更し、住民にLINEで知らせました。",
          "info")
    return redirect(url_for("admin.booking", booking_id=row.id))


@bp.post("/bookings/<id:booking_id>/cancel")
@requires("bookings")
def booking_cancel(booking_id: int):
    row = _booking(booking_id)
    form = CancelForm()
    if not form.validate_on_submit():
        return _page(row, 400, cancel_form=form)
    if not staff.cancel(db(), services().content.current(), row, now(), _tz()):
        db().rollback()
        flash("この予約は取り消せません（取り消し済みか、収集日を過ぎています）。", "error")
        return _page(_booking(booking_id), 409)
    audit("booking.cancel", f"booking:{row.number}", {"area": row.area, "date": row.date.isoformat()})
    db().commit()
    flash(f"{row.number}（{day_label(row.date)}）を取り消し、住民にLINEで知らせました。", "info")
    return redirect(url_for("admin.booking", booking_id=row.id))


# -- how the pushes and the audit log name what happened here ------------------------------------
@title("large-waste-reminder")
def _large_waste(parts: list[str], content: Content, session: Session, tz: ZoneInfo) -> str:
    return f"粗大ごみ収集の前日のお知らせ（受付番号 {parts[0]}）"


@title("large-waste-staff")
def _large_waste_staff(parts: list[str], content: Content, session: Session, tz: ZoneInfo) -> str:
    what = {"staff_moved": "収集日の変更", "staff_cancelled": "取り消し"}.get(parts[1], parts[1])
    return f"粗大ごみ予約の{what}のお知らせ（受付番号 {parts[0]}、電話での依頼）"


@sentence("bookings.export")
def _export(e, w):
    area = "すべての地区" if _d(e).get("area") in (None, "all") else _d(e)["area"]
    return f"{e.actor} が {_said_day(_number(e.target))} の粗大ごみ予約（{area}・{_d(e).get('rows', '?')} 件）をCSVで出力"


@sentence("booking.view")
def _booking_view(e, w):
    return f"{e.actor} が粗大ごみ予約 {_number(e.target)} の連絡先（氏名・住所・電話）を表示"


@sentence("booking.move")
def _booking_move(e, w):
    return (f"{e.actor} が粗大ごみ予約 {_number(e.target)} の収集日を {_said_day(_d(e).get('from'))} から "
            f"{_said_day(_d(e).get('to'))} に変更（住民の電話による）")


@sentence("booking.cancel")
def _booking_cancel(e, w):
    return f"{e.actor} が粗大ごみ予約 {_number(e.target)}（{_said_day(_d(e).get('date'))}）を取り消し（住民の電話による）"
