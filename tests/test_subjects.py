"""Subjects: the buyer's own subject is read with the message; replies' and Amazon's are not."""

from __future__ import annotations

from email.message import EmailMessage

import pytest

import run
from daemon.subjects import buyer_subject, classification_text


@pytest.mark.parametrize(
    "subject, expected",
    [
        ("Cancel my order please", "Cancel my order please"),
        ("Paket beschädigt – Bestellung 302-1234567-7654321", "Paket beschädigt – Bestellung"),
        ("[Urgent] 订单还没到", "订单还没到"),
        ("Re: Your order has shipped", ""),
        ("AW: Ihre Bestellung wurde versandt", ""),
        ("I: Ordine spedito", ""),
        ("回复：您的订单已发货", ""),
        ("Inquiry from Amazon customer Jane Doe (Order: 113-4829175-6620341)", ""),
        ("Richiesta dal cliente Amazon Marco Rossi (Ordine: 405-2291847-7716230)", ""),
        ("302-1234567-7654321", ""),
        ("", ""),
    ],
)
def test_only_a_subject_the_buyer_wrote_is_kept(subject: str, expected: str) -> None:
    assert buyer_subject(subject) == expected


def test_the_subject_is_set_apart_from_the_body_so_negation_cannot_cross() -> None:
    assert classification_text("Cancel order", "Hi, not sure what to do") == "Cancel order\n\nHi, not sure what to do"
    assert classification_text("Where is my parcel?", "Where is my parcel? Order 1.") == "Where is my parcel? Order 1."
    assert classification_text("Re: Cancel order", "ok thanks") == "ok thanks"


def eml(tmp_path, subject: str, body: str) -> str:
    message = EmailMessage()
    message["From"] = "Ann Buyer <ann@example.com>"
    message["To"] = "support@shop.example"
    message["Subject"] = subject
    message["Message-ID"] = "<s1@example.com>"
    message.set_content(body)
    path = tmp_path / "m.eml"
    path.write_bytes(message.as_bytes())
    return str(path)


def test_a_message_whose_intent_is_only_in_its_subject_is_classified_by_it(tmp_path, capsys) -> None:
    status = run.main(["classify", "--explain", eml(tmp_path, "Please cancel my order", "Hello,\norder 302-1234567-7654321.\nThanks, Ann")])
    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith("cancellation"), out
    assert "cancel" in out


def test_a_reply_subject_does_not_label_the_message(tmp_path, capsys) -> None:
    status = run.main(["classify", eml(tmp_path, "Re: Your order has been cancelled and refunded", "Thank you, have a nice day!")])
    out = capsys.readouterr().out
    assert status == 0
    assert out.startswith("other"), out
