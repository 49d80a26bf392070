"""Logging in with password and code, logging out, and enrolment, in a real browser."""

from __future__ import annotations

import time

import pyotp
from playwright.sync_api import expect
from sqlalchemy import select

from registry.auth import two_factor
from registry.core.db import db as database
from registry.core.models import User

CODE_LABEL = "Code uit de authenticator-app (6 cijfers)"
NEW_PASSWORD = "paarse olifant fietst langs de gracht"
# the drawn modules (plus quiet zone) lie inside the area the svg shows: a width set in CSS on an
# svg without a viewBox crops the code instead of scaling it
QR_FITS = """svg => {
  const drawn = svg.getBBox();
  const box = svg.viewBox.baseVal;
  const shown = box && box.width ? box : svg.getBoundingClientRect();
  return drawn.x + drawn.width <= shown.width && drawn.y + drawn.height <= shown.height;
}"""


def wrong_code(user: User) -> str:
    """Six digits that no step the server accepts right now (±1 step) would produce."""
    now = time.time()
    valid = {
        two_factor.current_code(user.totp_secret or "", now=now + delta * two_factor.STEP_SECONDS)
        for delta in (-1, 0, 1, 2)
    }
    return next(f"{n:06d}" for n in range(1_000_000) if f"{n:06d}" not in valid)


def test_login_with_password_and_code_then_logout(page, live_server, make_user, browser_login):
    # Given an enrolled registrant
    user = make_user(roles=("registrant",))

    # When they log in with password and code
    browser_login(page, live_server, user)

    # Then the home page greets them by name and shows the tile for their role only
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Goedendag, {user.display_name}")
    expect(page.locator("#rol-registrant")).to_be_visible()
    expect(page.locator("#rol-registrant h2")).to_have_text("Handelingskaders")
    expect(page.locator("#rol-responder")).to_have_count(0)
    expect(page.locator("#rol-coordinator")).to_have_count(0)

    # When they log out
    page.get_by_role("button", name="Uitloggen").click()

    # Then they are on the login page, and the home page sends them back there
    expect(page).to_have_url(f"{live_server.url}/login")
    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/login")
    expect(page.get_by_role("button", name="Uitloggen")).to_have_count(0)


def test_wrong_code_is_refused_in_dutch(page, live_server, make_user):
    # Given an enrolled user who knows the password
    user = make_user()
    page.goto("/login")
    page.get_by_label("Gebruikersnaam").fill(user.username)
    page.get_by_label("Wachtwoord").fill(user.password)
    page.get_by_role("button", name="Verder").click()

    # When they type a code the authenticator would not show
    page.get_by_label(CODE_LABEL).fill(wrong_code(user))
    page.get_by_role("button", name="Inloggen").click()

    # Then the error does not say which factor was wrong, and they are not logged in
    expect(page.get_by_role("alert")).to_contain_text("Gebruikersnaam, wachtwoord of code klopt niet")
    expect(page.get_by_label("Gebruikersnaam")).to_be_visible()
    page.goto("/")
    expect(page).to_have_url(f"{live_server.url}/login")


def test_login_by_keyboard_only(page, live_server, make_user, code_for):
    # Given the login page, freshly loaded
    user = make_user()
    page.goto("/login")

    # Then the cursor is in the username field
    expect(page.get_by_label("Gebruikersnaam")).to_be_focused()

    # When the user types, tabs and presses Enter through both steps
    page.keyboard.type(user.username)
    page.keyboard.press("Tab")
    expect(page.get_by_label("Wachtwoord")).to_be_focused()
    page.keyboard.type(user.password)
    page.keyboard.press("Enter")

    expect(page).to_have_url(f"{live_server.url}/login/code")
    expect(page.get_by_label(CODE_LABEL)).to_be_focused()
    page.keyboard.type(code_for(user))
    page.keyboard.press("Enter")

    # Then they are logged in
    expect(page).to_have_url(f"{live_server.url}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Goedendag, {user.display_name}")


def test_coordinator_enrols_a_colleague(
    app, page, new_page, live_server, make_user, browser_login, artifacts
):
    # Given a coordinator, logged in; the login page saved for a look
    coordinator = make_user(roles=("coordinator",))
    page.goto("/login")
    page.screenshot(path=artifacts / "login.png", full_page=True)
    browser_login(page, live_server, coordinator)

    # When they create an account for a colleague
    page.get_by_role("link", name="Accounts").first.click()
    expect(page).to_have_url(f"{live_server.url}/accounts")
    page.get_by_label("Gebruikersnaam").fill("j.devries")
    page.get_by_label("Naam", exact=True).fill("Joke de Vries")
    page.get_by_label("Regiehouder (handelingskaders invoeren)").check()
    page.get_by_role("button", name="Account aanmaken").click()

    # Then an activation link is shown, and the colleague is listed as not yet activated
    link = page.locator("#activeringslink")
    expect(link).to_be_visible()
    url = link.inner_text().strip()
    assert url.startswith(f"{live_server.url}/enrol/")
    expect(page.get_by_role("row").filter(has_text="j.devries")).to_contain_text("Nog niet geactiveerd")

    # When the colleague opens the link in a browser of their own
    colleague = new_page()
    colleague.goto(url)

    # Then they see a QR code, and the secret behind "cannot scan"
    expect(colleague.get_by_role("heading", level=1)).to_have_text("Account activeren")
    qr = colleague.locator(".qr svg")
    expect(qr).to_be_visible()
    assert qr.evaluate(QR_FITS), "the QR code is cropped: a phone may not scan it"
    secret_box = colleague.locator("details code.secret")
    expect(secret_box).to_be_hidden()
    colleague.locator("details summary").click()
    expect(secret_box).to_be_visible()
    secret = secret_box.inner_text().strip()
    colleague.screenshot(path=artifacts / "enrolment.png", full_page=True)

    # When they choose a password and confirm the secret with a code from it
    colleague.get_by_label("Nieuw wachtwoord").fill(NEW_PASSWORD)
    colleague.get_by_label("Nogmaals het wachtwoord").fill(NEW_PASSWORD)
    colleague.get_by_label(CODE_LABEL).fill(pyotp.TOTP(secret).now())
    colleague.get_by_role("button", name="Activeren").click()

    # Then the account is active
    expect(colleague.get_by_role("heading", level=1)).to_have_text("Uw account is actief")

    # And they can log in with it (a later code: the one used to activate is spent)
    with app.app_context():
        new_user = database.session.scalars(select(User).where(User.username == "j.devries")).one()
        assert two_factor.secret_of(new_user) == secret
    new_user.password = NEW_PASSWORD  # type: ignore[attr-defined]
    colleague.get_by_role("link", name="Naar inloggen").click()
    browser_login(colleague, live_server, new_user)
    expect(colleague.get_by_role("heading", level=1)).to_have_text("Goedendag, Joke de Vries")
    expect(colleague.locator("#rol-registrant")).to_be_visible()
    expect(colleague.locator("#rol-coordinator")).to_have_count(0)
