"""WebSockets accept only pages of the same origin (scheme, host and port), on a real server."""

import asyncio
import json

import pytest
import websockets
from django.db import connection

from articles import services
from articles.models import Generation
from tests.support import start_asgi_server, stop

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def signed_in(make_member, workspace, client):
    """(session cookie, path of a generation's socket) for a writer of the workspace."""
    writer = make_member("writer", workspace, username="wendy")
    article = services.draft_create(workspace=workspace, user=writer, request=services.DraftRequest(prompt="Hi"))
    generation = article.generations.get()
    Generation.objects.filter(pk=generation.pk).update(status="running", text="Hello", seq=2)
    client.force_login(writer)
    return f"sessionid={client.cookies['sessionid'].value}", f"/ws/generations/{generation.pk}/"


@pytest.fixture
def server(tmp_path):
    """start(**env) -> base URL of a live ASGI server on the test database."""
    processes = []

    def start(**env):
        process, url = start_asgi_server(connection.settings_dict, tmp_path / f"asgi{len(processes)}.log", **env)
        processes.append(process)
        return url

    yield start
    for process in processes:
        stop(process)


def handshake(url: str, path: str, cookie: str, origin: str | None, host: str | None = None,
              headers: dict | None = None):
    """The first message on an accepted socket, or the HTTP status of a refused handshake.
    `host` (name:port) goes in the Host header; the connection still goes to `url`'s server."""

    extra = headers

    async def attempt():
        headers = {"Cookie": cookie, **(extra or {})}
        if origin is not None:
            headers["Origin"] = origin
        server_host, server_port = url.split("//", 1)[1].split(":")
        uri = f"ws://{host or url.split('//', 1)[1]}{path}"
        try:
            async with websockets.connect(uri, additional_headers=headers,
                                          host=server_host, port=int(server_port)) as ws:
                return json.loads(await asyncio.wait_for(ws.recv(), timeout=10))
        except websockets.exceptions.InvalidStatus as refused:
            return refused.response.status_code

    return asyncio.run(attempt())


def test_a_page_of_the_same_origin_may_open_a_socket(server, signed_in):
    cookie, path = signed_in
    url = server()
    assert handshake(url, path, cookie, origin=url)["type"] == "append"
    port = url.rsplit(":", 1)[1]
    localhost = f"localhost:{port}"
    assert handshake(url, path, cookie, origin=f"http://{localhost}", host=localhost)["type"] == "append"


@pytest.mark.parametrize("origin", [
    "http://127.0.0.1:9999",      # another port on the same host
    "http://localhost:{port}",    # another host name for the same server
    "https://127.0.0.1:{port}",   # another scheme
    "https://evil.example",       # another site
    None,                         # no Origin at all (not a browser)
    "null",                       # sandboxed or file:// pages
    "http://127.0.0.1:{port}/path",
    "http://127.0.0.1:notaport",  # the server itself may refuse this one (400)
])
def test_other_origins_are_refused(server, signed_in, origin):
    cookie, path = signed_in
    url = server()
    port = url.rsplit(":", 1)[1]
    origin = origin.format(port=port) if origin else None
    assert handshake(url, path, cookie, origin=origin) in (400, 403)


def test_a_host_outside_allowed_hosts_is_refused_even_with_a_matching_origin(server, signed_in):
    """DNS rebinding: evil.example resolved to this server, its page is 'same origin' with it."""
    cookie, path = signed_in
    url = server()
    port = url.rsplit(":", 1)[1]
    host = f"evil.example:{port}"
    assert handshake(url, path, cookie, origin=f"http://{host}", host=host) == 403


def test_an_origin_listed_in_csrf_trusted_origins_is_accepted(server, signed_in):
    cookie, path = signed_in
    url = server(DJANGO_CSRF_TRUSTED_ORIGINS="https://studio.example.com,https://*.example.org")
    assert handshake(url, path, cookie, origin="https://studio.example.com")["type"] == "append"
    assert handshake(url, path, cookie, origin="https://team.example.org")["type"] == "append"
    assert handshake(url, path, cookie, origin="http://studio.example.com") == 403


def test_behind_a_tls_proxy_the_https_origin_is_the_sites(server, signed_in):
    """Production settings trust X-Forwarded-Proto (SECURE_PROXY_SSL_HEADER): the page the
    browser shows is https://, though the proxy speaks plain ws:// to the server."""
    from django.conf import settings

    cookie, path = signed_in
    url = server(DJANGO_DEBUG="0", DJANGO_ALLOWED_HOSTS="studio.example.com",
                 DJANGO_SECRET_KEY=settings.SECRET_KEY)  # the same key signs the session
    host = "studio.example.com"
    proxied = {"X-Forwarded-Proto": "https"}
    assert handshake(url, path, cookie, origin=f"https://{host}", host=host, headers=proxied)["type"] == "append"
    assert handshake(url, path, cookie, origin=f"http://{host}", host=host, headers=proxied) == 403
    assert handshake(url, path, cookie, origin=f"https://{host}", host=host) == 403  # not via the proxy
