import Foundation
import GatehouseCore
import Testing

/// The web pages over plain HTTP with curl: sessions, CSRF, rate limits and error pages.
@Suite("Web interface: sign-in, sessions and refusals")
struct WebTests {
    /// A curl session with a cookie jar.
    struct Browser {
        let base: String
        let jar: URL

        func get(_ path: String) async throws -> APIResponse {
            try APIResponse(curlOutput: try await runCommand("curl", ["-sS", "-i", "-b", jar.path, "-c", jar.path, "-w", "\n%{http_code}", base + path]).stdout)
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

    @Test("a session cookie is HttpOnly and SameSite=Lax, survives a restart of the server, and ends on sign-out")
    func sessions() async throws {
        try await TestGatehouse.with { gatehouse in
            try await gatehouse.user("ada")
            try await gatehouse.data.sessions.setPassword(username: "ada", password: "correct horse battery")
            let browser = Self.browser(gatehouse)
            let form = try await browser.get("/login")
            let csrf = try #require(browser.csrf(from: form))
            let signedIn = try await browser.post("/login", ["username": "ada", "password": "correct horse battery", "csrf": csrf, "next": "/account/ssh-keys"])
            #expect(signedIn.status == 303 && signedIn.headers["location"] == "/account/ssh-keys", "\(signedIn)")
            let cookie = try #require(signedIn.headers["set-cookie"])
            #expect(cookie.contains("gatehouse_session=ghs_") && cookie.contains("HttpOnly") && cookie.contains("SameSite=Lax"), "\(cookie)")
            #expect(!cookie.contains("Secure"), "plain HTTP: no Secure flag")

            // Sessions live in the database: another server on the same data directory knows this one.
            let restarted = try await TestAPI.start(try gatehouse.data.apiServer(ssh: try gatehouse.data.sshEndpoint(port: gatehouse.port, user: "git")),
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
            try await gatehouse.user("ada")
            try await gatehouse.data.sessions.setPassword(username: "ada", password: "correct horse battery")
            let browser = Self.browser(gatehouse)
            let csrf = try #require(browser.csrf(from: try await browser.get("/login")))
            for attempt in 1...SessionService.failuresPerAccount {
                let wrong = try await browser.post("/login", ["username": "ada", "password": "wrong \(attempt)", "csrf": csrf])
                #expect(wrong.status == 401 && wrong.body.contains("Incorrect username or password."), "\(wrong.status)")
            }
            let limited = try await browser.post("/login", ["username": "ada", "password": "correct horse battery", "csrf": csrf])
            #expect(limited.status == 429 && limited.body.contains("Too many failed sign-ins"), "\(limited.status)")
            let unknown = try await browser.post("/login", ["username": "nobody", "password": "whatever it is", "csrf": csrf])
            #expect(unknown.status == 401 && unknown.body.contains("Incorrect username or password."), "the same words for an unknown account")
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
}
