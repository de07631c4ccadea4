"""訓練登録: staff phones opt in to training broadcasts (訓練) from the chat.

Training mode of the disaster desk sends only to residents flagged as testers. A staff
member sends 「訓練登録 CODE」 with the code the operators set (TESTER_CODE), and
「訓練解除」 to stop; nobody else can become a tester, and without a code configured the
feature is off. Nothing is logged but the outcome.
"""

from __future__ import annotations

import hmac
import re
import unicodedata

from bot.router import Intent

from .menu import menu_chip

intent = Intent("testers", texts=["joined", "left", "wrong_code", "closed", "how"])


@intent.entry
def tester(reply, content, lang, resident, config, text):
    typed = unicodedata.normalize("NFKC", text or "")
    quick = [menu_chip(content, lang)]
    if re.search(r"解除|かいじょ|やめ|stop|leave", typed, re.IGNORECASE):
        resident.tester = False
        return reply(content.text("testers.left", lang), quick=quick)
    if not config.tester_code:
        return reply(content.text("testers.closed", lang), quick=quick)
    code = re.sub(r"^\s*(訓練の?登録|くんれん\s*とうろく|drill\s+register)\s*", "", typed, flags=re.IGNORECASE).strip()
    if not code:
        return reply(content.text("testers.how", lang), quick=quick)
    if not hmac.compare_digest(code.encode(), config.tester_code.encode()):
        return reply(content.text("testers.wrong_code", lang), quick=quick)
    resident.tester = True
    reply(content.text("testers.joined", lang), quick=quick)
