"""A requests session that reads the process environment once per host, not once per call.

With ``trust_env`` (the default) requests scans every environment variable for proxies, checks
``no_proxy``, looks for ``REQUESTS_CA_BUNDLE``/``CURL_CA_BUNDLE`` and opens ``~/.netrc`` on every
request: about a fifth of a worker's CPU per warning. The environment of a running process does
not change, so this session asks requests the same questions once per scheme and host and keeps
the answers. What a call passes explicitly (proxies, verify, auth) still wins, as in requests.
One difference: a redirect to another host gets no environment proxies or netrc auth (the WeChat
API does not redirect).
"""

from __future__ import annotations

import threading
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.utils import get_environ_proxies, get_netrc_auth


class EnvironmentOnceSession(requests.Session):
    def __init__(self) -> None:
        super().__init__()
        # requests' own per-call reading is off; merge_environment_settings and prepare_request
        # below apply the same environment from the per-host cache instead.
        self.trust_env = False
        self._lock = threading.Lock()
        self._by_host: dict[str, tuple[dict[str, str], Any, Any]] = {}

    def _environment(self, url: str) -> tuple[dict[str, str], Any, Any]:
        """(environment proxies, environment CA bundle or None, netrc auth or None) for url."""
        parts = urlsplit(url)
        host = f"{parts.scheme}://{parts.netloc}"
        found = self._by_host.get(host)
        if found is None:
            with requests.Session() as probe:  # trust_env on: exactly what requests would read
                settings = probe.merge_environment_settings(host + "/", {}, None, None, None)
            bundle = settings["verify"] if isinstance(settings["verify"], str) else None
            found = (dict(settings["proxies"]), bundle, get_netrc_auth(host + "/"))
            with self._lock:
                self._by_host[host] = found
        return found

    def prepare_request(self, request: requests.Request) -> requests.PreparedRequest:
        if not request.auth and not self.auth:
            netrc_auth = self._environment(request.url)[2]
            if netrc_auth:
                request.auth = netrc_auth
        return super().prepare_request(request)

    def merge_environment_settings(self, url: Any, proxies: Any, stream: Any, verify: Any,
                                   cert: Any) -> Any:  # requests-stubs: _Settings
        env_proxies, bundle, _auth = self._environment(url)
        if proxies is not None:
            if proxies.get("no_proxy") is not None:
                env_proxies = get_environ_proxies(url, no_proxy=proxies["no_proxy"])
            for key, value in env_proxies.items():
                proxies.setdefault(key, value)
        if verify is True or verify is None:
            verify = bundle or verify
        return super().merge_environment_settings(url, proxies, stream, verify, cert)
