import Foundation
import Testing

@Suite("REST API: SSH keys, repositories, host keys and the audit log")
struct APIAccountTests {
    @Test("an account's SSH keys: POST 201 with a {uuid}, GET by {uuid} encoded or not, PUT the label, DELETE 204")
    func sshKeys() async throws {
        try await TestGatehouse.with { gatehouse in
            let user = try await gatehouse.user("sam")
            let auth = Credential.basic("sam", try await gatehouse.token("sam", scopes: [.accountWrite]))
            let key = try await gatehouse.key()
            let added = try await gatehouse.api.request(
                "POST", "/2.0/users/sam/ssh-keys", auth: auth, body: #"{"key": "\#(key.publicKey)", "label": "laptop"}"#)
            #expect(added.status == 201, "\(added)")
            let uuid = try #require(added.json["uuid"].string)
            #expect(uuid.hasPrefix("{") && uuid.hasSuffix("}"))
            #expect(added.json["type"].string == "ssh_key" && added.json["label"].string == "laptop")
            #expect(added.json["fingerprint"].string == (try await key.fingerprint()))
            #expect(added.json["owner"]["username"].string == "sam" && added.json["expires_on"].isNull && added.json["last_used"].isNull)
            #expect(added.json["comment"].string == "ed25519@tests")

            let encoded = uuid.replacingOccurrences(of: "{", with: "%7B").replacingOccurrences(of: "}", with: "%7D")
            let byUserUUID =
                "/2.0/users/" + "{\(user.id.uuidString.lowercased())}".replacingOccurrences(of: "{", with: "%7B").replacingOccurrences(of: "}", with: "%7D")
            for path in ["/2.0/users/sam/ssh-keys/\(encoded)", "\(byUserUUID)/ssh-keys/\(encoded)"] {
                let fetched = try await gatehouse.api.request("GET", path, auth: auth)
                #expect(fetched.status == 200 && fetched.json["uuid"].string == uuid, "\(path): \(fetched)")
            }
            let listed = try await gatehouse.api.request("GET", "/2.0/users/sam/ssh-keys", auth: auth)
            #expect(listed.json["values"].array.map { $0["uuid"].string } == [uuid])
            let renamed = try await gatehouse.api.request("PUT", "/2.0/users/sam/ssh-keys/\(encoded)", auth: auth, body: #"{"label": "desktop"}"#)
            #expect(renamed.status == 200 && renamed.json["label"].string == "desktop", "\(renamed)")
            let swapped = try await gatehouse.api.request(
                "PUT", "/2.0/users/sam/ssh-keys/\(encoded)", auth: auth,
                body: #"{"label": "x", "key": "\#(try await gatehouse.key().publicKey)"}"#)
            #expect(swapped.status == 400, "\(swapped)")
            let deleted = try await gatehouse.api.request("DELETE", "/2.0/users/sam/ssh-keys/\(encoded)", auth: auth)
            #expect(deleted.status == 204, "\(deleted)")
            #expect(try await gatehouse.api.request("GET", "/2.0/users/sam/ssh-keys/\(encoded)", auth: auth).status == 404)
            let actions = try await gatehouse.data.store.auditEntries(workspace: nil, limit: 10).map(\.action.rawValue)
            #expect(Set(["ssh_key.added", "ssh_key.renamed", "ssh_key.removed"]).isSubset(of: Set(actions)), "\(actions)")
        }
    }

    @Test("repositories: a workspace admin creates one (private unless told otherwise); anonymous callers list only public ones")
    func repositories() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            try await gatehouse.repository("acme/site", isPublic: true)
            let auth = Credential.basic("olivia", try await gatehouse.token("olivia"))
            let created = try await gatehouse.api.request("POST", "/2.0/repositories/acme/tools", auth: auth, body: "{}")
            #expect(created.status == 200 && created.json["is_private"].bool == true && created.json["full_name"].string == "acme/tools", "\(created)")
            let open = try await gatehouse.api.request("POST", "/2.0/repositories/acme/docs", auth: auth, body: #"{"is_private": false}"#)
            #expect(open.json["is_private"].bool == false, "\(open)")
            let again = try await gatehouse.api.request("POST", "/2.0/repositories/acme/docs", auth: auth, body: "{}")
            #expect(again.status == 400 && again.errorMessage?.contains("already exists") == true, "\(again)")
            let badName = try await gatehouse.api.request("POST", "/2.0/repositories/acme/Bad%20Name", auth: auth, body: "{}")
            #expect(badName.status == 400, "\(badName)")

            let mine = try await gatehouse.api.request("GET", "/2.0/repositories/acme", auth: auth)
            #expect(mine.json["values"].array.compactMap { $0["slug"].string } == ["app", "docs", "site", "tools"], "\(mine)")
            let anonymous = try await gatehouse.api.request("GET", "/2.0/repositories/acme")
            #expect(anonymous.json["values"].array.compactMap { $0["slug"].string } == ["docs", "site"], "\(anonymous)")
            #expect(try await gatehouse.api.request("GET", "/2.0/repositories/nowhere").status == 404)

            let clone = try await gatehouse.git(["ls-remote", gatehouse.url("acme/tools")], keys: [try await gatehouse.key()])
            #expect(!clone.succeeded, "a new repository exists on disk but an unknown key cannot read it")
        }
    }

    @Test("host keys come with known_hosts lines that ssh accepts for this server")
    func hostKeys() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let response = try await gatehouse.api.request("GET", "/2.0/hostkeys")
            let values = response.json["values"].array
            #expect(values.count == 2)
            let expected = Set(try gatehouse.data.hostKeys().publicKeys.map(\.fingerprint))
            #expect(Set(values.compactMap { $0["fingerprint"].string }) == expected)
            let knownHosts = gatehouse.scratch("known_hosts")
            try values.compactMap { $0["known_hosts"].string }.joined(separator: "\n").write(to: knownHosts, atomically: true, encoding: .utf8)
            let deployKey = try await gatehouse.key()
            try await gatehouse.addDeployKey(deployKey, to: ["acme/app"])
            // Strict checking against only these lines: ssh connects, so the lines are right for this host and port.
            let strict = ["-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=\(knownHosts.path)"]
            let result = try await gatehouse.ssh(deployKey, options: strict, command: "git-upload-pack 'acme/app.git'")
            #expect(result.stdout.contains("refs/heads/main"), "\(result)")
        }
    }

    @Test("the workspace audit log pages newest first and records who did what from where")
    func auditLog() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let auth = Credential.basic("olivia", try await gatehouse.token("olivia"))
            for label in ["a", "b", "c"] {
                let key = try await gatehouse.key()
                _ = try await gatehouse.api.request(
                    "POST", "/2.0/repositories/acme/app/deploy-keys", auth: auth, body: #"{"key": "\#(key.publicKey)", "label": "\#(label)"}"#)
            }
            let page = try await gatehouse.api.request("GET", "/2.0/workspaces/acme/audit?pagelen=2", auth: auth)
            // Three keys added, and the owner's first push of the day while seeding.
            #expect(page.status == 200 && page.json["size"].int == 4 && page.json["next"].string != nil, "\(page)")
            let first = page.json["values"][0]
            #expect(first["action"].string == "deploy_key.added" && first["actor"].string == "olivia" && first["source_ip"].string == "127.0.0.1")
            #expect(first["detail"].string?.contains("\"c\"") == true, "newest first: \(first.raw ?? "")")
        }
    }
}

@Suite("Operating metrics")
struct MetricsTests {
    @Test("/metrics counts SSH authentications, Git operations with bytes sent, and API requests by route and status")
    func metrics() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let deployKey = try await gatehouse.key()
            try await gatehouse.addDeployKey(deployKey, to: ["acme/app"])
            let cloned = try await gatehouse.git(["ls-remote", gatehouse.url("acme/app")], keys: [deployKey])
            #expect(cloned.succeeded)
            let stranger = try await gatehouse.key()
            let refused = try await gatehouse.git(["ls-remote", gatehouse.url("acme/app")], keys: [stranger])
            #expect(!refused.succeeded)
            _ = try await gatehouse.api.request("GET", "/2.0/repositories/acme/app/deploy-keys")
            let response = try await gatehouse.api.request("GET", "/metrics")
            #expect(response.status == 200 && response.headers["content-type"]?.hasPrefix("text/plain") == true)
            let text = response.body
            // Other tests share the process's registry, so values are at least, not exactly, what this test did.
            let expectations: [(series: String, minimum: Double)] = [
                (#"gatehouse_ssh_auth_total{result="accepted",key_kind="deploy"}"#, 1.0),
                (#"gatehouse_ssh_auth_total{result="rejected",key_kind="unknown"}"#, 1.0),
                (#"gatehouse_git_operations_total{service="upload-pack",result="ok"}"#, 1.0),
                (#"gatehouse_git_bytes_sent_total{service="upload-pack"}"#, 100.0),
                (#"gatehouse_api_requests_total{route="/2.0/repositories/{workspace}/{repo_slug}/deploy-keys",method="GET",status="401"}"#, 1.0),
            ]
            for (series, minimum) in expectations {
                let value: Double? = Self.value(of: series, in: text)
                let shown = value.map { String($0) } ?? "missing"
                #expect((value ?? 0) >= minimum, "\(series) = \(shown) in\n\(text.prefix(3000))")
            }
        }
    }

    /// The value of one series in Prometheus' text format, whatever order its labels were written in.
    static func value(of series: String, in text: String) -> Double? {
        let name = String(series.prefix { $0 != "{" })
        let wanted = labels(series)
        for line in text.split(separator: "\n") where line.hasPrefix(name + "{") || line.hasPrefix(name + " ") {
            guard labels(String(line)) == wanted else { continue }
            return line.split(separator: " ").last.flatMap { Double($0) }
        }
        return nil
    }

    /// `name="value"` pairs; values may contain braces and slashes.
    static func labels(_ series: String) -> [String: String] {
        var result: [String: String] = [:]
        for match in series.matches(of: /(\w+)="([^"]*)"/) { result[String(match.1)] = String(match.2) }
        return result
    }
}
