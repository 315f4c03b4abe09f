"""Administration behind the app's 管理 tab: messages, uploads, answering settings, login sessions and the
`Admin` service (see admin/service.py)."""
