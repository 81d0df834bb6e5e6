"""Aftersale daemon: mailbox in, classified tickets and reply drafts out."""
