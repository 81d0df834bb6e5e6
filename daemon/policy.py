"""Amazon's buyer-seller messaging rules, as checks over template text or a rendered reply.

Amazon suspends sellers whose messages carry links, contact details, marketing or review
manipulation, so every shipped template is checked (`lint-templates`) and every reply to an
Amazon buyer is checked again after rendering: one that breaks a rule is never sent
automatically, it becomes a draft with the violation noted on the ticket.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

ORDER_ID = re.compile(r"\b\d{3}-\d{7}-\d{7}\b")
NOT_A_PHONE = re.compile(r"\b\d{3}-\d{7}-\d{7}\b|\b\d{4}-\d{2}-\d{2}\b|\b\d{12,}\b|\b1Z[0-9A-Z]{16}\b")
"""Order ids, ISO dates and tracking numbers: digits a reply may carry that are not phones."""
JINJA = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


@dataclass(frozen=True)
class Rule:
    name: str
    explanation: str
    pattern: re.Pattern[str]


def _rule(name: str, explanation: str, *alternatives: str) -> Rule:
    return Rule(name, explanation, re.compile("|".join(f"(?:{a})" for a in alternatives), re.IGNORECASE))


RULES: tuple[Rule, ...] = (
    _rule("no-links", "no links: Amazon allows only links needed to complete the order",
          r"https?://\S+", r"\bwww\.\S+", r"\b[a-z0-9-]+\.(?:com|net|org|shop|store|de|fr|es|it|co\.uk|co\.jp|cn|io)\b(?!-)"),
    _rule("no-email-addresses", "no e-mail addresses in buyer messages", r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+"),
    _rule("no-phone-numbers", "no phone numbers in buyer messages",
          r"(?<![\w-])\+?\(?\d[\d ()./-]{7,}\d(?![\w-])", r"\b(?:tel|phone|telefon|téléphone|teléfono|telefono)\s*[:.]", r"電話番号|电话[:：]|電話[:：]"),
    _rule("no-marketing", "no marketing or promotions",
          r"\b(?:discount|coupon|promo(?:tion(?:al)?)?(?: code)?|voucher|newsletter|% off|on sale|special offer|our (?:new|other) products|visit our (?:store|shop|website)|follow us)\b",
          r"\b(?:rabatt|gutschein|aktionscode|sonderangebot|newsletter|besuchen sie unseren shop)\b",
          r"\b(?:réduction|remise|code promo|bon de réduction|soldes|offre spéciale)\b",
          r"\b(?:descuento|cupón|cupon|código promocional|oferta especial|rebajas)\b",
          r"\b(?:sconto|coupon|codice promozionale|offerta speciale|saldi)\b",
          r"割引|クーポン|セール|キャンペーン|プロモーション|折扣|优惠券|優惠券|优惠码|促销|促銷|打折"),
    _rule("no-review-requests", "never ask for a positive review or offer anything for one",
          r"\b(?:positive|good|great|5[- ]star|five[- ]star)\s+(?:review|feedback|rating)s?\b", r"\b5 stars\b", r"\bin exchange for (?:a |your )?(?:review|feedback)\b",
          r"\b(?:free|refund|gift|discount)\b[^.\n]{0,40}\bfor (?:a |your )?(?:review|feedback)\b",
          r"\bpositive (?:bewertung|rezension)\b", r"\b5 sterne\b", r"\bavis positif\b", r"\b5 étoiles\b",
          r"\b(?:reseña|opinión|valoración) positiva\b", r"\b5 estrellas\b", r"\brecensione positiva\b", r"\b5 stelle\b",
          r"高評価|星5|★5|好评|好評|五星"),
    _rule("no-review-changes", "never ask the buyer to change or remove a review",
          r"\b(?:change|update|edit|revise|remove|delete|withdraw|take down|reconsider)\s+(?:your|the|their|this)\s+(?:review|feedback|rating)\b",
          r"\b(?:bewertung|rezension)\s+(?:zu\s+)?(?:ändern|löschen|entfernen|anpassen|zurückziehen)\b",
          r"\b(?:modifier|supprimer|retirer|changer)\s+(?:votre|son|l')\s*(?:avis|évaluation|commentaire)\b",
          r"\b(?:cambiar|modificar|eliminar|retirar|borrar)\s+(?:su|tu|la)\s+(?:reseña|opinión|valoración)\b",
          r"\b(?:modificare|cambiare|rimuovere|eliminare|cancellare)\s+(?:la\s+|sua\s+|tua\s+)*(?:recensione|valutazione)\b",
          r"(?:レビュー|評価)(?:を|の)(?:削除|変更|修正|取り下げ)", r"(?:修改|删除|刪除|撤销|撤回|更改)(?:您的|你的)?(?:评价|評價|差评|差評)"),
)

REQUEST_CANCELLATION = re.compile(
    r"request cancellation|stornierung anfordern|bestellung stornieren|demander l'annulation|annuler la commande"
    r"|solicitar (?:la )?cancelación|cancelar (?:el )?pedido|richiedi(?:ere)? (?:la )?cancellazione|annulla(?:re)? l'ordine"
    r"|キャンセルをリクエスト|注文をキャンセル|请求取消|請求取消|申请取消|申請取消|取消订单|取消訂單",
    re.IGNORECASE,
)
"""How each marketplace names the buyer's own cancellation button."""


@dataclass(frozen=True)
class Violation:
    rule: str
    explanation: str
    text: str
    line: int = 0
    file: str = ""

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}: " if self.file else (f"line {self.line}: " if self.line else "")
        return f"{where}{self.rule}: {self.explanation} (found {self.text!r})"


def check_text(text: str, purpose: str = "", allowed: tuple[str, ...] = ()) -> list[Violation]:
    """Violations in a rendered reply (or a template with its Jinja2 code blanked out).

    `allowed` are values the order itself put there (its tracking number, carrier): needed to
    complete the order, so Amazon permits them."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        for value in allowed:
            if value:
                line = line.replace(value, " ")
        scrubbed = NOT_A_PHONE.sub(" ", line)
        for rule in RULES:
            match = rule.pattern.search(scrubbed)
            if match:
                found.append(Violation(rule.name, rule.explanation, match.group(0).strip(), number))
    if purpose.startswith("cancellation") and not _is_generic(purpose) and not REQUEST_CANCELLATION.search(text):
        found.append(Violation("cancellation-via-order-page", "a cancellation reply must point the buyer to Request cancellation in Your Orders", purpose))
    return found


def _is_generic(purpose: str) -> bool:
    """Shipped and FBA orders can no longer be cancelled by the buyer: only the not-yet-shipped
    and generic cancellation replies must name the button."""
    return purpose in {"cancellation_shipped", "cancellation_fba"}


def lint_template(path: Path) -> list[Violation]:
    """Violations in one template file, with the file and line named."""
    source = path.read_text(encoding="utf-8")
    blanked = JINJA.sub(lambda m: " " * len(m.group(0).splitlines()[0]) + "\n" * m.group(0).count("\n"), source)
    name = path.name.removesuffix(".txt.j2")
    violations = check_text(blanked, name)
    return [Violation(v.rule, v.explanation, v.text, v.line, str(path)) for v in violations]


def lint_templates(directory: Path) -> list[Violation]:
    return [v for path in sorted(Path(directory).glob("*/*.txt.j2")) for v in lint_template(path)]
