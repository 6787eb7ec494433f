"""`tandem playground`: several people's chats side by side in a browser, against the real core.

The same session engine as `tandem chat` (tandem/session.py), served as plain HTML forms on loopback.
"""
