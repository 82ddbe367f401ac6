import Foundation
import GatehouseCore
import GatehouseHTTP
import Testing

/// The web pages over plain HTTP with curl: sessions, CSRF, rate limits and error pages.
@Suite("Web interface: sign-in, sessions and refusals")
struct WebTests {
    /// A curl session with a cookie jar.
    struct Browser {
        let base: String
        let jar: URL

        func get(_ path: String) async throws -> APIResponse {
            try APIResponse(
                curlOutput: try await runCommand("curl", ["-sS", "-i", "-b", jar.path, "-c", jar.path, "-w", "\n%{http_code}", base + path]).stdout)
        }

        func post(_ path: String, _ fields: [String: String]) async throws -> APIResponse {
            var arguments = ["-sS", "-i", "-b", jar.path, "-c", jar.path, "-w", "\n%{http_code}"]
            for (name, value) in fields.sorted(by: { $0.key < $1.key }) { arguments += ["--data-urlencode", "\(name)=\(value)"] }
            return try APIResponse(curlOutput: try await runCommand("curl", arguments + [base + path]).stdout)
        }

        /// The CSRF token the last page put in its forms.
        func csrf(from page: APIResponse) -> String? {
            page.body.firstMatch(of: /name="csrf" value="([^"]+)"/).map { String($0.1) }
        }
    }

    static func browser(_ gatehouse: TestGatehouse) -> Browser {
        Browser(base: gatehouse.api.base, jar: gatehouse.scratch("cookies"))
    }

    /// A fresh browser, and the account ada with the password "correct horse battery".
    static func browserWithAda(_ gatehouse: TestGatehouse) async throws -> Browser {
        try await gatehouse.user("ada")
        try await gatehouse.data.sessions.setPassword(username: "ada", password: "correct horse battery")
        return browser(gatehouse)
    }

    @Test("a session cookie is HttpOnly and SameSite=Lax, survives a restart of the server, and ends on sign-out")
    func sessions() async throws {
        try await TestGatehouse.with { gatehouse in
            let browser = try await Self.browserWithAda(gatehouse)
            let form = try await browser.get("/login")
            let csrf = try #require(browser.csrf(from: form))
            let signedIn = try await browser.post(
                "/login", ["username": "ada", "password": "correct horse battery", "csrf": csrf, "next": "/account/ssh-keys"])
            #expect(signedIn.status == 303 && signedIn.headers["location"] == "/account/ssh-keys", "\(signedIn)")
            let cookie = try #require(signedIn.headers["set-cookie"])
            #expect(cookie.contains("gatehouse_session=ghs_") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "\(cookie)")
            #expect(!cookie.contains("Secure"), "plain HTTP: no Secure flag")

            // Sessions live in the database: another server on the same data directory knows this one.
            let restarted = try await TestAPI.start(
                try gatehouse.data.apiServer(ssh: try gatehouse.data.sshEndpoint(port: gatehouse.port, user: "git")),
                logger: gatehouse.data.logger)
            let other = Browser(base: restarted.base, jar: browser.jar)
            let page = try await other.get("/account/ssh-keys")
            await restarted.stop()
            #expect(page.status == 200 && page.body.contains("Sign out") && page.body.contains("ada"), "\(page.status)")

            let out = try await browser.post("/logout", ["csrf": try #require(browser.csrf(from: page))])
            #expect(out.status == 303 && out.headers["location"] == "/login")
            let after = try await browser.get("/account/ssh-keys")
            #expect(after.status == 303 && after.headers["location"]?.hasPrefix("/login?next=") == true, "\(after)")
        }
    }

    @Test("failed sign-ins are limited per account: the sixth try is refused even with the right password")
    func rateLimit() async throws {
        try await TestGatehouse.with { gatehouse in
            let browser = try await Self.browserWithAda(gatehouse)
            let csrf = try #require(browser.csrf(from: try await browser.get("/login")))
            for attempt in 1...SignInLimits().failuresPerAccount {
                let wrong = try await browser.post("/login", ["username": "ada", "password": "wrong \(attempt)", "csrf": csrf])
                #expect(wrong.status == 401 && wrong.body.contains("Incorrect username or password."), "\(wrong.status)")
            }
            let limited = try await browser.post("/login", ["username": "ada", "password": "correct horse battery", "csrf": csrf])
            #expect(limited.status == 429 && limited.body.contains("Too many failed sign-ins"), "\(limited.status)")
            let unknown = try await browser.post("/login", ["username": "nobody", "password": "whatever it is", "csrf": csrf])
            #expect(unknown.status == 401 && unknown.body.contains("Incorrect username or password."), "the same words for an unknown account")
        }
    }

    @Test("a certificate authority is added in the dialog with its principals, and the list marks it")
    func certificateAuthorityListed() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"], owner: "ada")
            try await gatehouse.data.sessions.setPassword(username: "ada", password: "correct horse battery")
            let browser = Self.browser(gatehouse)
            let authority = try await gatehouse.key()
            let form = try await Self.signIn(browser, next: "/acme/app/admin/deploy-keys?add")
            let csrf = try #require(browser.csrf(from: form))
            let refused = try await browser.post(
                "/acme/app/admin/deploy-keys",
                [
                    "label": "build CA", "key": authority.publicKey,
                    "principals": "ci, re\"lease", "csrf": csrf,
                ])
            #expect(
                refused.status == 400 && refused.body.contains("is not allowed") && refused.body.contains("value=\"ci, re&quot;lease\""),
                "the dialog stays open with the principals as typed")
            let added = try await browser.post(
                "/acme/app/admin/deploy-keys",
                [
                    "label": "build CA", "key": authority.publicKey,
                    "principals": "ci, release", "csrf": csrf,
                ])
            #expect(added.status == 303, "\(added)")
            let page = try await browser.get("/acme/app/admin/deploy-keys")
            #expect(page.status == 200 && page.body.contains("ssh-ed25519 certificate authority for ci, release"), "\(page.body)")
            let stored = try await gatehouse.data.keys.listDeployKeys(actor: .localOperator, repository: "acme/app")
            #expect(stored.map(\.key.principals) == [["ci", "release"]] && stored.first?.key.kind == .certificateAuthority)
        }
    }

    @Test("pages that do not exist, and private repositories, get a 404 page that names nothing; the API keeps its JSON errors")
    func errorPages() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/secret-plans"])
            let browser = Self.browser(gatehouse)
            for path in ["/acme/secret-plans", "/acme/secret-plans/admin/deploy-keys", "/no/such/page/here", "/acme/nothing"] {
                let page = try await browser.get(path)
                let isRedirect = page.status == 303 && page.headers["location"]?.hasPrefix("/login") == true
                #expect(page.status == 404 || isRedirect, "\(path): \(page.status)")
                #expect(!page.body.contains("secret-plans"), "\(path) names the repository")
                if page.status == 404 { #expect(page.headers["content-type"]?.hasPrefix("text/html") == true && page.body.contains("Page not found")) }
            }
            let api = try await gatehouse.api.request("GET", "/2.0/nothing")
            #expect(api.status == 404 && api.json["type"].string == "error")
            let css = try await browser.get("/static/gatehouse.css")
            #expect(css.status == 200 && css.headers["content-type"]?.hasPrefix("text/css") == true)
            let page = try await browser.get("/login")
            #expect(page.headers["content-security-policy"]?.contains("default-src 'self'") == true)
            #expect(!page.body.contains("http://") && !page.body.contains("https://"), "nothing is fetched from elsewhere")
        }
    }

    @Test("gatehouse user passwd reads the password from standard input and refuses a short one")
    func passwd() async throws {
        try await TestGatehouse.with { gatehouse in
            try await gatehouse.user("ada")
            let binary = try gatehouseBinary()
            let data = gatehouse.data.url.path
            let set = try await runCommand(binary, ["user", "passwd", "ada", "--data", data], input: "correct horse battery\n")
            #expect(set.succeeded, "\(set)")
            let signedIn = try await gatehouse.data.sessions.signIn(username: "ada", password: "correct horse battery", sourceIP: nil)
            #expect(signedIn.user.username == "ada")
            let short = try await runCommand(binary, ["user", "passwd", "ada", "--data", data], input: "short\n")
            #expect(!short.succeeded && short.stderr.contains("too short"), "\(short)")
        }
    }

    @Test("a repository's keys page shows 50 keys at a time, with the range, the total and links either side; a bad page number is refused")
    func keysPaged() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"], owner: "ada")
            try await gatehouse.data.sessions.setPassword(username: "ada", password: "correct horse battery")
            for index in 1...53 { _ = try await gatehouse.addDeployKey(try await gatehouse.key(), to: ["acme/app"], label: "machine-\(index)") }
            let browser = Self.browser(gatehouse)
            let first = try await Self.signIn(browser, next: "/acme/app/admin/deploy-keys")
            func labels(_ body: String) -> [String] {
                body.components(separatedBy: "value=\"machine-").dropFirst().map { String($0.prefix { $0.isNumber }) }
            }
            #expect(first.status == 200 && Set(labels(first.body)) == Set((1...50).map(String.init)), "\(first.body)")
            #expect(first.body.contains("1–50 of 53") && first.body.contains(#"href="/acme/app/admin/deploy-keys?page=2""#))
            #expect(!first.body.contains(#"rel="prev""#))
            let second = try await browser.get("/acme/app/admin/deploy-keys?page=2")
            #expect(Set(labels(second.body)) == ["51", "52", "53"], "\(second.body)")
            #expect(second.body.contains("51–53 of 53") && second.body.contains(#"href="/acme/app/admin/deploy-keys?page=1""#))
            #expect(!second.body.contains(#"rel="next""#))
            let refused = try await browser.get("/acme/app/admin/deploy-keys?page=x")
            #expect(refused.status == 400 && refused.body.contains("The page number must be a whole number from 1"), "\(refused.body)")
        }
    }

    /// Signs `browser` in as ada and returns the page it lands on.
    static func signIn(_ browser: Browser, next: String = "/") async throws -> APIResponse {
        let csrf = try #require(browser.csrf(from: try await browser.get("/login")))
        let signedIn = try await browser.post("/login", ["username": "ada", "password": "correct horse battery", "csrf": csrf, "next": next])
        #expect(signedIn.status == 303)
        return try await browser.get(next)
    }

    @Test("account SSH keys page: add (refusing someone else's deployment key with Bitbucket's neutral words), rename and delete, each mailed or audited")
    func accountKeys() async throws {
        try await TestGatehouse.with { gatehouse in
            let browser = try await Self.browserWithAda(gatehouse)
            var page = try await Self.signIn(browser, next: "/account/ssh-keys")
            #expect(page.body.contains("No SSH keys yet."))
            let key = try await gatehouse.key()
            let added = try await browser.post("/account/ssh-keys", ["label": "laptop", "key": key.publicKey, "csrf": try #require(browser.csrf(from: page))])
            #expect(added.status == 303 && added.headers["location"] == "/account/ssh-keys?notice=added-account", "\(added)")
            page = try await browser.get("/account/ssh-keys?notice=added-account")
            #expect(page.body.contains(try await key.fingerprint()) && page.body.contains("You get an email about it."))
            let id = try #require(page.body.firstMatch(of: /account\/ssh-keys\/([0-9a-f-]{36})\/label/).map { String($0.1) })

            // A key that is already a deployment key where ada administers nothing: the dialog comes back open with
            // Bitbucket's neutral reason (what the key is elsewhere is not hers to know) and the input.
            _ = try await gatehouse.seeded(repositories: ["acme/app"], owner: "olivia")
            let machine = try await gatehouse.key()
            try await gatehouse.addDeployKey(machine, to: ["acme/app"])
            let refused = try await browser.post(
                "/account/ssh-keys", ["label": "mine", "key": machine.publicKey, "csrf": try #require(browser.csrf(from: page))])
            #expect(
                refused.status == 400 && refused.body.contains("Someone has already registered that SSH key")
                    && !refused.body.contains("deployment key") && refused.body.contains("value=\"mine\""))
            #expect(refused.body.contains("<dialog id=\"add-key\" aria-labelledby=\"add-key-title\" open>"))
            #expect(refused.body.contains(machine.publicKey), "a public key that was refused is kept for correcting")
            let privateKey = try String(contentsOfFile: machine.privateKeyPath, encoding: .utf8)
            let pasted = try await browser.post("/account/ssh-keys", ["label": "oops", "key": privateKey, "csrf": try #require(browser.csrf(from: page))])
            #expect(pasted.status == 400 && pasted.body.contains("this is a private key") && pasted.body.contains("value=\"oops\""))
            #expect(
                !pasted.body.contains("PRIVATE KEY") && !pasted.body.contains(String(privateKey.split(separator: "\n")[1])),
                "a private key is never sent back")

            let renamed = try await browser.post("/account/ssh-keys/\(id)/label", ["label": "desktop", "csrf": try #require(browser.csrf(from: page))])
            #expect(renamed.status == 303)
            page = try await browser.get("/account/ssh-keys")
            #expect(page.body.contains("value=\"desktop\""))
            let confirm = try await browser.get("/account/ssh-keys/\(id)/delete")
            #expect(confirm.status == 200 && confirm.body.contains("Delete SSH key &quot;desktop&quot;?"))
            let deleted = try await browser.post("/account/ssh-keys/\(id)/delete", ["csrf": try #require(browser.csrf(from: confirm))])
            #expect(deleted.status == 303)
            #expect(try await browser.get("/account/ssh-keys").body.contains("No SSH keys yet."))
            let mail = try await gatehouse.data.store.mail(status: nil, limit: 10).filter { $0.mail.to == "ada@example.com" }
            #expect(mail.count == 1 && mail.first?.mail.subject == "[Gatehouse] SSH key \"laptop\" added to your account")
            let actions = try await gatehouse.data.store.auditEntries(workspace: nil, limit: 20).filter { $0.actor == "ada" }.map(\.action)
            #expect(Set(actions) == [.accountKeyAdded, .accountKeyRenamed, .accountKeyRemoved], "\(actions)")
        }
    }

    @Test("workspace settings show members, seats (deployment keys not counted) and the audit log to admins; members get 404")
    func workspaceSettings() async throws {
        try await TestGatehouse.with { gatehouse in
            let browser = try await Self.browserWithAda(gatehouse)
            try await gatehouse.workspace("acme", owner: "ada", seats: 3)
            try await gatehouse.repository("acme/app")
            try await gatehouse.user("mel")
            try await gatehouse.data.directory.setMember(workspace: "acme", username: "mel", role: .member)
            try await gatehouse.addDeployKey(try await gatehouse.key(), to: ["acme/app"], label: "ci")
            let dashboard = try await Self.signIn(browser)
            #expect(dashboard.body.contains("href=\"/acme/app\"") && dashboard.body.contains("/workspaces/acme/settings"))
            let page = try await browser.get("/workspaces/acme/settings")
            #expect(page.status == 200)
            #expect(page.body.contains("2 of 3 seats") && page.body.contains("deployment keys never take a seat (1 in this workspace)"), "\(page.body)")
            #expect(page.body.contains("mel") && page.body.contains("member") && page.body.contains("deploy_key.added"))

            try await gatehouse.data.sessions.setPassword(username: "mel", password: "correct horse mel")
            let other = Browser(base: gatehouse.api.base, jar: gatehouse.scratch("mel"))
            let csrf = try #require(other.csrf(from: try await other.get("/login")))
            _ = try await other.post("/login", ["username": "mel", "password": "correct horse mel", "csrf": csrf])
            let refused = try await other.get("/workspaces/acme/settings")
            #expect(refused.status == 404 && !refused.body.contains("seats"))
            let settings = try await other.get("/acme/app/admin")
            #expect(settings.status == 404, "a member without repository access does not see its settings")
        }
    }

    @Test("the Add key dialog makes a key write-enabled for ref rules; workspace keys are managed on their page and shown on the repository's")
    func writeAndWorkspaceKeys() async throws {
        try await TestGatehouse.with { gatehouse in
            let browser = try await Self.browserWithAda(gatehouse)
            try await gatehouse.workspace("acme", owner: "ada")
            try await gatehouse.repository("acme/app")
            var page = try await Self.signIn(browser, next: "/acme/app/admin/deploy-keys")
            let jenkins = try await gatehouse.key()
            let noRules = try await browser.post(
                "/acme/app/admin/deploy-keys",
                ["label": "jenkins", "key": jenkins.publicKey, "permission": "write", "rules": "", "csrf": try #require(browser.csrf(from: page))])
            #expect(noRules.status == 400 && noRules.body.contains("at least one ref rule"), "\(noRules.body)")
            let added = try await browser.post(
                "/acme/app/admin/deploy-keys",
                [
                    "label": "jenkins", "key": jenkins.publicKey, "permission": "write", "rules": "refs/tags/v*:create",
                    "csrf": try #require(browser.csrf(from: page)),
                ])
            #expect(added.status == 303, "\(added)")
            page = try await browser.get("/acme/app/admin/deploy-keys")
            #expect(page.body.contains("write (create refs/tags/v*)"), "\(page.body)")
            let stored = try await gatehouse.data.keys.listDeployKeys(actor: .localOperator, repository: "acme/app")
            let tagRule = try RefRule(parsing: "refs/tags/v*:create")
            #expect(stored.first?.access == .write && stored.first?.refRules == [tagRule])
            let id = try #require(stored.first?.id)
            let readOnly = try await browser.post(
                "/acme/app/admin/deploy-keys/\(id)/permission", ["permission": "read", "rules": "refs/tags/v*", "csrf": try #require(browser.csrf(from: page))])
            #expect(readOnly.status == 303)
            let afterEdit = try await gatehouse.data.keys.listDeployKeys(actor: .localOperator, repository: "acme/app")
            #expect(afterEdit.first?.access == .read)

            page = try await browser.get("/workspaces/acme/settings/deploy-keys")
            #expect(page.status == 200 && page.body.contains("No workspace deployment keys yet."))
            let fleet = try await gatehouse.key()
            let workspaceKey = try await browser.post(
                "/workspaces/acme/settings/deploy-keys",
                ["label": "fleet", "key": fleet.publicKey, "repositories": "ap*", "permission": "read", "csrf": try #require(browser.csrf(from: page))])
            #expect(workspaceKey.status == 303, "\(workspaceKey)")
            page = try await browser.get("/workspaces/acme/settings/deploy-keys")
            let fleetFingerprint = try await fleet.fingerprint()
            #expect(page.body.contains(fleetFingerprint) && page.body.contains("value=\"ap*\""))
            let repositoryPage = try await browser.get("/acme/app/admin/deploy-keys")
            #expect(repositoryPage.body.contains("From the workspace") && repositoryPage.body.contains(fleetFingerprint))
            let policy = try await browser.post("/workspaces/acme/settings/policy", ["csrf": try #require(browser.csrf(from: page))])
            #expect(policy.status == 303)
            let workspace = try await gatehouse.data.directory.requireWorkspace("acme")
            #expect(workspace.allowWriteDeployKeys == false)
        }
    }

    @Test("the key lifecycle page: where a key is, one key on many repositories, rotation and registration tokens")
    func keyLifecyclePage() async throws {
        try await TestGatehouse.with { gatehouse in
            let browser = try await Self.browserWithAda(gatehouse)
            try await gatehouse.workspace("acme", owner: "ada")
            for name in ["acme/web-shop", "acme/web-blog", "acme/api"] { try await gatehouse.repository(name) }
            var page = try await Self.signIn(browser, next: "/workspaces/acme/settings/key-lifecycle")
            #expect(page.status == 200, "\(page)")
            let old = try await gatehouse.key()
            let attached = try await browser.post(
                "/workspaces/acme/settings/key-lifecycle/attach",
                ["label": "ci", "key": old.publicKey, "repositories": "web-*", "permission": "read", "csrf": try #require(browser.csrf(from: page))])
            #expect(attached.status == 200 && attached.body.contains("Attached to 2 repositories"), "\(attached.body)")
            let oldFingerprint = try await old.fingerprint()
            let query = oldFingerprint.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            page = try await browser.get("/workspaces/acme/settings/key-lifecycle?fingerprint=\(query)")
            #expect(page.body.contains("acme/web-shop") && page.body.contains("acme/web-blog") && !page.body.contains("<td>acme/api</td>"))

            let new = try await gatehouse.key()
            let rotated = try await browser.post(
                "/workspaces/acme/settings/key-lifecycle/rotate",
                ["old": oldFingerprint, "key": new.publicKey, "overlap_hours": "0", "csrf": try #require(browser.csrf(from: page))])
            #expect(rotated.status == 200 && rotated.body.contains("Rotated 2 attachments"), "\(rotated.body)")
            #expect(try await gatehouse.data.store.storedKey(fingerprint: oldFingerprint) == nil)

            let created = try await browser.post(
                "/workspaces/acme/settings/key-lifecycle/registration-tokens",
                [
                    "repositories": "web-*", "permission": "read", "uses": "2", "hours": "1", "label_prefix": "ci-",
                    "csrf": try #require(browser.csrf(from: page)),
                ])
            let secret = try #require(created.body.firstMatch(of: /id="registration-secret">(ghr_[A-Za-z0-9_-]+)</).map { String($0.1) })
            let tokens = try await gatehouse.data.registrations.list(actor: .localOperator, workspace: "acme")
            #expect(tokens.count == 1 && tokens.first?.usesLeft == 2)
            let machine = try await gatehouse.key()
            _ = try await gatehouse.data.registrations.register(
                secret: secret, workspace: "acme", keyText: machine.publicKey, label: "runner", sourceIP: nil)
            let revoked = try await browser.post(
                "/workspaces/acme/settings/key-lifecycle/registration-tokens/\(try #require(tokens.first?.id.uuidString.lowercased()))/revoke",
                ["csrf": try #require(browser.csrf(from: created))])
            #expect(revoked.status == 303)
            #expect(try await gatehouse.data.registrations.list(actor: .localOperator, workspace: "acme").isEmpty)
        }
    }

    @Test("a public repository's page is open to everyone, with clone URL and host keys; its settings are not")
    func publicRepositoryPage() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: [])
            try await gatehouse.repository("acme/site", isPublic: true)
            let browser = Self.browser(gatehouse)
            let page = try await browser.get("/acme/site")
            #expect(page.status == 200 && page.body.contains("ssh://git@127.0.0.1:\(gatehouse.port)/acme/site.git"))
            for key in try gatehouse.data.hostKeys().publicKeys {
                #expect(page.body.contains(key.fingerprint) && page.body.contains("[127.0.0.1]:\(gatehouse.port) \(key.openSSH)"))
            }
            #expect(!page.body.contains(">Settings<"), "no Settings link for visitors")
            let settings = try await browser.get("/acme/site/admin/deploy-keys")
            #expect(settings.status == 303 && settings.headers["location"] == "/login?next=/acme/site/admin/deploy-keys")
        }
    }

    @Test("once signed in, only the session's own CSRF token is accepted: a planted pre-sign-in cookie token is refused")
    func csrfBoundToSession() async throws {
        try await TestGatehouse.with { gatehouse in
            let browser = try await Self.browserWithAda(gatehouse)
            let anonymousToken = try #require(browser.csrf(from: try await browser.get("/login")))
            let page = try await Self.signIn(browser, next: "/account/ssh-keys")
            let sessionToken = try #require(browser.csrf(from: page))
            #expect(sessionToken != anonymousToken)
            let planted = try await browser.post("/logout", ["csrf": anonymousToken])
            #expect(planted.status == 403, "\(planted.status)")
            #expect(try await browser.get("/account/ssh-keys").status == 200, "still signed in")
            #expect(try await browser.post("/logout", ["csrf": sessionToken]).status == 303)
        }
    }

    @Test("signing in removes expired sessions and old failed sign-ins")
    func pruning() async throws {
        try await TestGatehouse.with { gatehouse in
            try await gatehouse.user("ada")
            try await gatehouse.data.sessions.setPassword(username: "ada", password: "correct horse battery")
            // A session opened 15 days ago (past its 14-day lifetime) and a failure from then.
            let past = SessionService(store: gatehouse.data.store, hasher: BcryptHasher(), clock: { Date().addingTimeInterval(-15 * 86_400) })
            let old = try await past.signIn(username: "ada", password: "correct horse battery", sourceIP: "192.0.2.1")
            _ = try? await past.signIn(username: "ada", password: "wrong password", sourceIP: "192.0.2.1")
            #expect(try await gatehouse.data.store.signInFailures(key: "account:ada", since: .distantPast) == 1)
            #expect(try await gatehouse.data.sessions.user(sessionSecret: old.secret) == nil, "expired")
            _ = try await gatehouse.data.sessions.signIn(username: "ada", password: "correct horse battery", sourceIP: "192.0.2.1")
            #expect(try await gatehouse.data.store.session(hash: TokenSecret.hash(old.secret)) == nil, "the expired row is gone")
            #expect(try await gatehouse.data.store.signInFailures(key: "account:ada", since: .distantPast) == 0)
        }
    }

}
