"""Local WeChat Official Account API simulator, simulated citizen phones and an inspection API.

WeChat cannot be reached from development machines, so `endfraud sandbox` serves WeChat's real
API paths (``/cgi-bin/...``) with WeChat's JSON shapes and error codes, and posts real signed
(optionally AES-encrypted) XML callbacks to the app's webhook. Only config differs between the
sandbox and production (``wechat.api_base_url``). See docs/sandbox.md.
"""
