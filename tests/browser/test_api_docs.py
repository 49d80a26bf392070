"""The API's description as a page (/api/docs): Swagger UI from the app itself, under the house CSP."""

from __future__ import annotations

from urllib.parse import urlsplit

from playwright.sync_api import expect


def test_the_api_docs_page_shows_every_operation_from_the_app_alone(page, live_server):
    # Given a browser that notes every request leaving for another host, every console error and
    # every script the Content-Security-Policy refused
    elsewhere: list[str] = []
    errors: list[str] = []
    page.on(
        "request",
        lambda request: (
            urlsplit(request.url).netloc != urlsplit(live_server.url).netloc
            and not request.url.startswith("data:")
            and elsewhere.append(request.url)
        ),
    )
    page.on("console", lambda message: message.type == "error" and errors.append(message.text))
    page.on("pageerror", lambda error: errors.append(str(error)))

    # When an integrator opens /api/docs
    response = page.goto("/api/docs")

    # Then the page comes with the house CSP (scripts from the app only) and Swagger UI draws the
    # served description: its title, the lookup with the operation id a client gets, the signal
    assert response is not None
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    expect(page.locator(".info .title")).to_contain_text("Samen Op API")
    expect(page.locator(".opblock").first).to_be_visible()
    lookup = page.locator(".opblock-post", has_text="/api/v1/lookups").first
    expect(lookup).to_contain_text("createLookup")
    expect(page.locator(".opblock", has_text="/api/v1/signals")).to_contain_text("createSignal")
    # and nothing came from elsewhere, and nothing was refused or failed
    assert elsewhere == []
    assert errors == []


def test_the_page_serves_only_swagger_ui_files(client):
    def status(path: str) -> int:
        response = client.get(path)
        response.close()  # a file is sent streamed
        return response.status_code

    assert status("/api/docs/swagger-ui-bundle.js") == 200
    assert status("/api/docs/index.html") == 404  # its page: an inline script
    assert status("/api/docs/..%2Fflask_swagger_ui.py") == 404
