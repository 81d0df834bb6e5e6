"""Why a dissatisfied buyer is unhappy, in the seven buyer languages.

The reason drives the reply (ask for photos of damage, not of a late parcel) and is recorded per
product, so `report` can show the seller which product fails and how (the seeds ask for exactly
that, to fix the product). Checked in order: the first reason that matches wins, so the more
specific ones come first ("wrong size" before "wrong item").
"""

from __future__ import annotations

import re
import unicodedata

REASONS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (name, re.compile("|".join(patterns), re.IGNORECASE))
    for name, patterns in (
        ("wrong_size_colour", (
            r"\bwrong (?:size|colou?r|shade)\b", r"\btoo (?:small|big|large|tight|short|long)\b", r"\b(?:does ?n[o']?t|didn'?t) fit\b",
            r"\bfalsche (?:grosse|farbe)\b", r"\bzu (?:klein|gross|eng)\b", r"\bpasst nicht\b",
            r"\bmauvaise (?:taille|couleur)\b", r"\btrop (?:petit|grand|serre)e?s?\b",
            r"\b(?:talla|color) (?:equivocad[oa]|incorrect[oa])\b", r"\bmuy (?:pequen|grande)", r"\bno me (?:queda|vale)\b",
            r"\b(?:taglia|colore) sbagliat[oa]\b", r"\btroppo (?:piccol|grand|strett)",
            r"サイズが(?:違|合わ|ちが)", r"色が(?:違|ちが)", r"小さすぎ", r"大きすぎ",
            r"尺码不对|尺寸不对|颜色不对|顏色不對|尺碼不對|太小|太大|偏小|偏大",
        )),
        ("wrong_item", (
            r"\bwrong (?:item|product|article|model|one|thing)\b", r"\bnot what i (?:ordered|bought)\b", r"\bsent (?:me )?the wrong\b", r"\bdifferent (?:item|product)\b",
            r"\bfalsche[rn]? (?:artikel|ware|produkt|sache)\b", r"\bnicht (?:das|den|die),? was ich bestellt\b",
            r"\bmauvais (?:article|produit)\b", r"\bpas (?:le bon|ce que j'ai commande)\b",
            r"\b(?:articulo|producto) (?:equivocado|incorrecto)\b", r"\bno es lo que (?:pedi|compre)\b",
            r"\b(?:articolo|prodotto) sbagliato\b", r"\bnon e quello che ho ordinato\b",
            r"違う商品|別の商品|間違った商品|商品が違",
            r"发错|寄错|發錯|寄錯|错的商品|不是我买的|不是我訂的",
        )),
        ("missing_part", (
            r"\bmissing\b", r"\bnot included\b", r"\bincomplete\b", r"\bonly (?:one|two|1|2) of\b",
            r"\bfehl(?:t|en|ende)\b", r"\bunvollstandig\b",
            r"\bmanqu(?:e|ant|ante|ants)\b", r"\bincomplet\b",
            r"\bfalta(?:n|ba)?\b", r"\bincomplet[oa]\b",
            r"\bmanca(?:no|nte|nti)?\b", r"\bincomplet[oa]\b",
            r"入っていな|足りな|欠品|付属品がな|部品がな",
            r"少了|缺少|缺件|少件|沒有配件|没有配件",
        )),
        ("damaged", (
            r"\bdamag", r"\bbroken\b", r"\bsmashed\b", r"\bcrack", r"\bshattered\b", r"\bdent", r"\bscratch", r"\bchipped\b", r"\bbent\b", r"\btorn\b", r"\bleak",
            r"\bbeschadigt", r"\bkaputt", r"\bzerbrochen", r"\bgebrochen", r"\bdelle\b", r"\bzerkratzt", r"\bgerissen",
            r"\bendommage", r"\bcasse", r"\babime", r"\bfissure", r"\braye", r"\bebreche",
            r"\bdanad[oa]", r"\broto\b", r"\brota\b", r"\bgolpead", r"\brayad", r"\bagrietad",
            r"\bdanneggiat", r"\brott[oa]\b", r"\bammaccat", r"\bgraffiat", r"\bcrepat", r"\bscheggiat",
            r"破損|割れ|傷が|へこみ|壊れ|ひび",
            r"损坏|破损|損壞|破損|坏了|壞了|碎了|裂|划痕|刮花",
        )),
        ("defective", (
            r"\bdefect", r"\bfaulty\b", r"\b(?:does ?n[o']?t|won'?t|will not|stopped|not) (?:work|working|turn on|charge|switch on|heat)", r"\bdead on arrival\b",
            r"\bdefekt", r"\bfunktioniert (?:nicht|nicht mehr)\b", r"\bgeht nicht\b", r"\blasst sich nicht\b",
            r"\bdefectueu", r"\bne (?:fonctionne|marche) (?:pas|plus)\b", r"\ben panne\b",
            r"\bdefectuos", r"\bno funciona\b", r"\bno enciende\b", r"\bno carga\b",
            r"\bdifettos", r"\bnon funziona\b", r"\bnon si accende\b",
            r"不良|動かな|故障|作動しな|電源が入らな|使えな",
            r"不能用|故障|质量问题|質量問題|不工作|无法使用|無法使用|用不了|开不了机",
        )),
        ("late", (
            r"\b(?:arrived|came|delivered) (?:too )?late\b", r"\btoo late\b", r"\bdelayed\b", r"\btook (?:too long|ages|weeks)\b",
            r"\bzu spat\b", r"\bverspat", r"\ben retard\b", r"\btrop tard\b", r"\bllego tarde\b", r"\bcon retraso\b", r"\bdemasiado tarde\b",
            r"\bin ritardo\b", r"\btroppo tardi\b", r"遅れ|遅延|遅すぎ", r"太慢|迟到|延迟|延遲|晚到",
        )),
    )
)


def fold(text: str) -> str:
    """Case and accents away for Latin script only: stripping marks from kana would turn
    が into か (NFKD splits the voicing mark off)."""
    folded = []
    for ch in unicodedata.normalize("NFKC", text.casefold()):
        if ord(ch) < 0x0370:
            folded.extend(c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c))
        else:
            folded.append(ch)
    return "".join(folded).replace("\u2019", "'")


def failure_reason(text: str) -> str:
    """damaged, defective, wrong_item, wrong_size_colour, missing_part, late, or "other"."""
    folded = fold(text)
    for name, pattern in REASONS:
        if pattern.search(folded):
            return name
    return "other"
