"""Drives headless Chromium through the deployment-key pages, as a person would.

Run by the Swift test BrowserTests, which starts Gatehouse and seeds it. Exits non-zero with the reason
on the first failed check; prints one line per step that passed.
"""
import argparse
import os
import subprocess
import sys
import urllib.error
import urllib.parse
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support import expected_conditions as EC
from selenium.webdriver.support.ui import WebDriverWait


def check(condition, message):
    if not condition:
        print(f"FAILED: {message}", flush=True)
        sys.exit(1)


def step(message):
    print(f"ok: {message}", flush=True)


def browser():
    options = webdriver.ChromeOptions()
    for argument in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,1000", "--disable-gpu"]:
        options.add_argument(argument)
    options.binary_location = os.environ.get("CHROMIUM", "/usr/bin/chromium")
    driver = webdriver.Chrome(service=Service(os.environ.get("CHROMEDRIVER", "/usr/bin/chromedriver")), options=options)
    driver.implicitly_wait(0)
    return driver


def wait_for(driver, condition, what):
    try:
        return WebDriverWait(driver, 10).until(condition)
    except Exception:
        check(False, f"{what} (page: {driver.current_url})")


def every_form_has_csrf(driver, page):
    forms = driver.find_elements(By.TAG_NAME, "form")
    for form in forms:
        tokens = form.find_elements(By.CSS_SELECTOR, "input[type=hidden][name=csrf]")
        check(tokens and tokens[0].get_attribute("value"), f"a form on {page} has no CSRF token: {form.get_attribute('action')}")
    return len(forms)


def add_key_in_dialog(driver, label, key):
    """Presses "Add key", fills the dialog's Label and Key, and presses its own "Add key"."""
    driver.find_element(By.ID, "open-add-key").click()
    dialog = wait_for(driver, EC.visibility_of_element_located((By.ID, "add-key")), "Add key opens the dialog")
    dialog.find_element(By.NAME, "label").send_keys(label)
    dialog.find_element(By.NAME, "key").send_keys(key)
    dialog.find_element(By.XPATH, ".//button[normalize-space()='Add key']").click()


def sign_in(driver, base, username, password):
    driver.get(f"{base}/login")
    every_form_has_csrf(driver, "/login")
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(password)
    driver.find_element(By.CSS_SELECTOR, "form[action='/login'] button[type=submit]").click()
    wait_for(driver, EC.presence_of_element_located((By.XPATH, "//button[normalize-space()='Sign out']")), f"{username} is signed in")


def sign_out(driver):
    driver.find_element(By.XPATH, "//button[normalize-space()='Sign out']").click()
    wait_for(driver, EC.url_contains("/login"), "signing out leads to the sign-in page")


def status_of(url, cookies, data=None):
    request = urllib.request.Request(url, data=data, headers={"Cookie": "; ".join(f"{c['name']}={c['value']}" for c in cookies)})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def fingerprint(public_key_path):
    output = subprocess.run(["ssh-keygen", "-lf", public_key_path], capture_output=True, text=True, check=True).stdout
    return output.split()[1]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--base", required=True)
    parser.add_argument("--ssh-port", required=True)
    parser.add_argument("--repository", required=True)
    parser.add_argument("--admin", required=True, help="USER:PASSWORD of a repository administrator")
    parser.add_argument("--reader", required=True, help="USER:PASSWORD of someone who may only read the repository")
    parser.add_argument("--public-key", required=True)
    parser.add_argument("--private-key", required=True)
    parser.add_argument("--artifacts", required=True)
    parser.add_argument("--work", required=True)
    args = parser.parse_args()
    base, repository = args.base, args.repository
    os.makedirs(args.artifacts, exist_ok=True)
    admin, admin_password = args.admin.split(":", 1)
    reader, reader_password = args.reader.split(":", 1)
    public_key = open(args.public_key).read().strip()
    private_key = open(args.private_key).read()

    # A POST without the CSRF token is refused before anything happens.
    status, _ = status_of(f"{base}/login", [], data=urllib.parse.urlencode({"username": admin, "password": admin_password}).encode())
    check(status == 403, f"a sign-in POST without a CSRF token is refused, got {status}")
    step("a POST without a CSRF token is refused with 403")

    driver = browser()
    try:
        sign_in(driver, base, admin, admin_password)
        step("signed in")
        every_form_has_csrf(driver, "the dashboard")
        driver.find_element(By.LINK_TEXT, repository).click()
        wait_for(driver, EC.presence_of_element_located((By.ID, "clone-url")), "the repository page shows the clone URL")
        box = driver.find_element(By.XPATH, "//h2[normalize-space()='Connecting from a new machine']/..").text
        check("known_hosts" in box and "SHA256:" in box and "Host key verification failed" in box and "ssh -T" in box,
              f"the repository page explains host keys: {box}")
        clone_url = driver.find_element(By.ID, "clone-url").get_attribute("value")
        check(clone_url.endswith(f"/{repository}.git"), f"clone URL {clone_url}")
        step("the repository page has the clone URL and the host key help")

        driver.find_element(By.LINK_TEXT, "Settings").click()
        wait_for(driver, EC.presence_of_element_located((By.LINK_TEXT, "Deployment keys")), "repository settings has a Deployment keys link")
        driver.find_element(By.LINK_TEXT, "Deployment keys").click()
        wait_for(driver, EC.presence_of_element_located((By.ID, "open-add-key")), "the deployment keys page")
        every_form_has_csrf(driver, "the deployment keys page")
        step("opened Settings → Deployment keys")

        # Add a key through the dialog.
        add_key_in_dialog(driver, "build server", public_key)
        expected = fingerprint(args.public_key)
        wait_for(driver, EC.presence_of_element_located((By.XPATH, f"//td[contains(@class,'fingerprint') and normalize-space()='{expected}']")),
                 f"the new key is listed with fingerprint {expected}")
        row = driver.find_element(By.XPATH, f"//td[normalize-space()='{expected}']/..")
        check("ssh-ed25519" in row.text and admin in row.text, f"the row shows type and who added it: {row.text}")
        driver.save_screenshot(os.path.join(args.artifacts, "deploy-keys.png"))
        step("added a key through the dialog; listed with the ssh-keygen fingerprint")

        # The key clones with the real git client.
        target = os.path.join(args.work, "clone")
        ssh = f"ssh -F /dev/null -i {args.private_key} -o IdentitiesOnly=yes -o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o BatchMode=yes"
        clone = subprocess.run(["git", "clone", "-q", clone_url.replace("localhost", "127.0.0.1"), target],
                               env=dict(os.environ, GIT_SSH_COMMAND=ssh), capture_output=True, text=True)
        check(clone.returncode == 0, f"git clone with the new key: {clone.stderr}")
        step("git clone works with the key")

        # A private key pasted by mistake: the precise error, the dialog still open, the label kept, the key not sent back.
        add_key_in_dialog(driver, "oops", private_key)
        error = wait_for(driver, EC.visibility_of_element_located((By.ID, "add-key-error")), "the error is shown in the dialog")
        check("this is a private key; paste the contents of the .pub file" in error.text, f"the key module's message: {error.text}")
        dialog = driver.find_element(By.ID, "add-key")
        check(dialog.is_displayed(), "the dialog stays open")
        check(dialog.find_element(By.NAME, "label").get_attribute("value") == "oops", "the label is kept")
        check(dialog.find_element(By.NAME, "key").get_attribute("value") == "", "the private key is not sent back into the page")
        check("PRIVATE KEY" not in driver.page_source, "the private key appears nowhere in the page")
        driver.save_screenshot(os.path.join(args.artifacts, "add-key-error.png"))
        step("a pasted private key gets the precise error with the dialog open, the label kept and the key not echoed")
        driver.get(f"{base}/{repository}/admin/deploy-keys")

        # Edit the label in place.
        field = driver.find_element(By.XPATH, f"//td[normalize-space()='{expected}']/..//input[@name='label']")
        field.clear()
        field.send_keys("deploy target")
        field.find_element(By.XPATH, "../button[normalize-space()='Save']").click()
        wait_for(driver, EC.presence_of_element_located((By.XPATH, "//input[@name='label' and @value='deploy target']")), "the label is saved")
        step("edited the label")

        # Delete, with a confirmation.
        driver.find_element(By.XPATH, f"//td[normalize-space()='{expected}']/..//a[normalize-space()='Delete']").click()
        confirm = wait_for(driver, EC.presence_of_element_located((By.ID, "confirm-delete")), "deleting asks for confirmation")
        check(expected in driver.page_source, "the confirmation names the key's fingerprint")
        every_form_has_csrf(driver, "the delete confirmation")
        confirm.click()
        wait_for(driver, EC.presence_of_element_located((By.XPATH, "//*[contains(text(),'No deployment keys yet.')]")), "the key is gone")
        step("deleted the key after confirming")

        # The account pages and the workspace settings carry CSRF tokens on every form too.
        driver.get(f"{base}/account/ssh-keys")
        every_form_has_csrf(driver, "the account SSH keys page")
        driver.get(f"{base}/workspaces/{repository.split('/')[0]}/settings")
        check("Seats count people" in driver.page_source or "seats" in driver.page_source, "the workspace settings page shows seats")
        every_form_has_csrf(driver, "the workspace settings page")

        # Signed in, a POST without the token is still refused.
        status, _ = status_of(f"{base}/{repository}/admin/deploy-keys", driver.get_cookies(),
                              data=urllib.parse.urlencode({"label": "x", "key": public_key}).encode())
        check(status == 403, f"a signed-in POST without a CSRF token is refused, got {status}")
        sign_out(driver)
        step("signed out")

        # Someone who may only read the repository gets "not found" for its settings, naming nothing.
        sign_in(driver, base, reader, reader_password)
        driver.get(f"{base}/{repository}/admin/deploy-keys")
        check("Page not found" in driver.title or "Page not found" in driver.page_source, "a non-admin sees the not-found page")
        check(repository not in driver.page_source, "the not-found page does not name the repository")
        status, _ = status_of(f"{base}/{repository}/admin/deploy-keys", driver.get_cookies())
        check(status == 404, f"a non-admin gets 404 for the settings page, got {status}")
        driver.set_window_size(390, 844)
        driver.get(f"{base}/{repository}")
        driver.save_screenshot(os.path.join(args.artifacts, "repository-phone.png"))
        sign_out(driver)
        step("a non-admin gets 404 on the settings page")
    finally:
        driver.quit()
    print("ALL STEPS PASSED", flush=True)


if __name__ == "__main__":
    main()
