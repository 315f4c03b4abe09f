"""The web app's parts: user-facing text, CSS/JS, pure HTML renderers, the chat and the 管理 tab.

`app.py` builds the Gradio Blocks from these. Layering: ui imports bot and admin, never the reverse.
"""
