"""The one exception the simulator's rules raise: a WeChat ``errcode``/``errmsg`` pair.

Codes follow WeChat's global return code table
(https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html).
"""

from __future__ import annotations

from typing import Any

SYSTEM_BUSY = -1
INVALID_CREDENTIAL = 40001  # bad secret, or an access_token that is not the latest
INVALID_GRANT_TYPE = 40002
INVALID_OPENID = 40003
INVALID_MESSAGE_TYPE = 40008
INVALID_APPID = 40013
INVALID_BUTTON_TYPE = 40015
INVALID_BUTTON_SIZE = 40016
INVALID_BUTTON_NAME_SIZE = 40018
INVALID_BUTTON_KEY_SIZE = 40019
INVALID_BUTTON_URL_SIZE = 40020
INVALID_SUB_BUTTON_SIZE = 40023
INVALID_SUB_BUTTON_TYPE = 40024
INVALID_SUB_BUTTON_NAME_SIZE = 40025
INVALID_SUB_BUTTON_KEY_SIZE = 40026
INVALID_SUB_BUTTON_URL_SIZE = 40027
INVALID_OPENID_LIST_SIZE_TAG = 40032
INVALID_TEMPLATE_ID = 40037
INVALID_ARGS = 40097
INVALID_APPSECRET = 40125
INVALID_OPENID_LIST_SIZE = 40130
MISSING_ACCESS_TOKEN = 41001
MISSING_APPID = 41002
MISSING_SECRET = 41004
EXPIRED_ACCESS_TOKEN = 42001
EMPTY_CONTENT = 44004
REQUIRE_SUBSCRIBE = 43004
DAILY_QUOTA = 45009
MINUTE_QUOTA = 45011
RESPONSE_OUT_OF_TIME = 45015
QR_COUNT_LIMIT = 45029
TOO_MANY_TAGS = 45056
USER_TAG_LIMIT = 45059
CLIENTMSGID_EXISTS = 45065
CLIENTMSGID_TOO_LONG = 45067
RESPONSE_COUNT_LIMIT = 45047
TAG_NAME_EXISTS = 45157
TAG_NAME_TOO_LONG = 45158
INVALID_TAG_ID = 45159
MENU_NOT_EXIST = 46003
DATA_FORMAT_ERROR = 47001
ARGUMENT_INVALID = 47003  # a template keyword value outside its type (sandbox.keywords)


class ApiError(Exception):
    """A WeChat API refusal; ``extra`` fields join the JSON body (e.g. 45065's msg_id)."""

    def __init__(self, errcode: int, errmsg: str, **extra: Any) -> None:
        super().__init__(f"{errcode} {errmsg}")
        self.errcode = errcode
        self.errmsg = errmsg
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {"errcode": self.errcode, "errmsg": self.errmsg, **self.extra}


class SandboxError(Exception):
    """A refused simulator-only request (citizen or control API), answered with ``status``."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
