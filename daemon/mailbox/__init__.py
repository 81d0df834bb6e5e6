"""Mailboxes: where customer mail is read and drafts are filed.

`imapclient` is imported only inside this package (by `imap.py`), and only when an IMAP
mailbox is actually built.
"""
