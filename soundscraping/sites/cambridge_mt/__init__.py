"""Cambridge-MT: the multitrack library (library) and its MyBB forum (forum,
attachments, dates), over shared HTML-text helpers (text) and link rules (urls)."""
