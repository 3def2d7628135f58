"""Validation of a custom menu (``POST cgi-bin/menu/create``), as WeChat checks it.

Rules from https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html:
1..3 top-level buttons, each with 1..5 sub-buttons or an action; names at most 16 bytes (top)
or 60 bytes (sub); click-like types need a key of at most 128 bytes, view needs a url of at
most 1024 bytes. Sub-button errors use the 40024..40027 codes, top-level ones 40015..40020.
"""

from __future__ import annotations

from typing import Any

from sandbox import errors
from sandbox.errors import ApiError

KEY_TYPES = frozenset({
    "click", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album",
    "pic_weixin", "location_select",
})
MEDIA_TYPES = frozenset({"media_id", "view_limited", "article_id", "article_view_limited"})
ALL_TYPES = KEY_TYPES | MEDIA_TYPES | {"view", "miniprogram"}
MAX_BUTTONS = 3
MAX_SUB_BUTTONS = 5
MAX_TOP_NAME_BYTES = 16
MAX_SUB_NAME_BYTES = 60
MAX_KEY_BYTES = 128
MAX_URL_BYTES = 1024
_CODES = {  # (top-level, sub-button) error code per checked field
    "type": (errors.INVALID_BUTTON_TYPE, errors.INVALID_SUB_BUTTON_TYPE),
    "name": (errors.INVALID_BUTTON_NAME_SIZE, errors.INVALID_SUB_BUTTON_NAME_SIZE),
    "key": (errors.INVALID_BUTTON_KEY_SIZE, errors.INVALID_SUB_BUTTON_KEY_SIZE),
    "url": (errors.INVALID_BUTTON_URL_SIZE, errors.INVALID_SUB_BUTTON_URL_SIZE),
}


def _size(value: Any) -> int:
    return len(value.encode("utf-8")) if isinstance(value, str) else -1


def _check_leaf(button: dict[str, Any], is_sub: bool) -> None:
    def fail(field: str, errmsg: str) -> ApiError:
        return ApiError(_CODES[field][int(is_sub)], errmsg)

    max_name = MAX_SUB_NAME_BYTES if is_sub else MAX_TOP_NAME_BYTES
    if not 1 <= _size(button.get("name")) <= max_name:
        raise fail("name", "invalid button name size")
    kind = button.get("type")
    if kind not in ALL_TYPES:
        raise fail("type", "invalid button type")
    if kind in KEY_TYPES and not 1 <= _size(button.get("key")) <= MAX_KEY_BYTES:
        raise fail("key", "invalid button key size")
    if kind in ("view", "miniprogram"):
        url = button.get("url")
        if not 1 <= _size(url) <= MAX_URL_BYTES or not str(url).startswith(("http://", "https://")):
            raise fail("url", "invalid button url size")
    if kind in MEDIA_TYPES and not (button.get("media_id") or button.get("article_id")):
        raise ApiError(errors.INVALID_ARGS, "invalid args: media_id or article_id required")


def validate_menu(body: Any) -> list[dict[str, Any]]:
    """Return the menu's buttons in ``menu/get`` shape, or raise the error WeChat would."""
    buttons = body.get("button") if isinstance(body, dict) else None
    if not isinstance(buttons, list) or not 1 <= len(buttons) <= MAX_BUTTONS:
        raise ApiError(errors.INVALID_BUTTON_SIZE, "invalid button size")
    normalised = []
    for button in buttons:
        if not isinstance(button, dict):
            raise ApiError(errors.INVALID_BUTTON_TYPE, "invalid button type")
        subs = button.get("sub_button")
        if subs:
            if not isinstance(subs, list) or len(subs) > MAX_SUB_BUTTONS:
                raise ApiError(errors.INVALID_SUB_BUTTON_SIZE, "invalid sub button size")
            if not 1 <= _size(button.get("name")) <= MAX_TOP_NAME_BYTES:
                raise ApiError(errors.INVALID_BUTTON_NAME_SIZE, "invalid button name size")
            for sub in subs:
                if not isinstance(sub, dict):
                    raise ApiError(errors.INVALID_SUB_BUTTON_TYPE, "invalid sub button type")
                _check_leaf(sub, is_sub=True)
            normalised.append({"name": button["name"],
                               "sub_button": [dict(sub, sub_button=[]) for sub in subs]})
        else:
            _check_leaf(button, is_sub=False)
            normalised.append(dict(button, sub_button=[]))
    return normalised
