import Foundation
import GatehouseCore
import Testing

@Suite("REST API: authentication and permissions")
struct APIAccessTests {
    /// Who calls, in a workspace `acme` with a private repository `acme/app`.
    enum Caller: String, CaseIterable, CustomStringConvertible {
        case owner, workspaceAdmin, repositoryAdmin, writer, reader, outsider, anonymous
        var description: String { rawValue }
        var username: String { rawValue.lowercased() }
    }

    /// Endpoint → expected status for each caller (owner, workspace admin, repository admin, writer, reader, outsider, anonymous).
    static let matrix: [(method: String, path: String, body: String?, expected: [Int])] = [
        ("GET", "/2.0/repositories/acme/app/deploy-keys", nil, [200, 200, 200, 403, 403, 404, 401]),
        ("POST", "/2.0/repositories/acme/app/deploy-keys", #"{"key": "NEWKEY", "label": "ci"}"#, [200, 200, 200, 403, 403, 404, 401]),
        ("GET", "/2.0/repositories/acme/app/deploy-keys/KEYID", nil, [200, 200, 200, 403, 403, 404, 401]),
        ("PUT", "/2.0/repositories/acme/app/deploy-keys/KEYID", #"{"label": "renamed"}"#, [200, 200, 200, 403, 403, 404, 401]),
        ("DELETE", "/2.0/repositories/acme/app/deploy-keys/KEYID", nil, [204, 204, 204, 403, 403, 404, 401]),
        ("GET", "/2.0/repositories/acme/app", nil, [200, 200, 200, 200, 200, 404, 404]),
        // acme has only a private repository: the outsider and the anonymous caller cannot tell it exists.
        ("GET", "/2.0/repositories/acme", nil, [200, 200, 200, 200, 200, 404, 404]),
        ("POST", "/2.0/repositories/acme/created", #"{"is_private": true}"#, [200, 200, 403, 403, 403, 404, 401]),
        ("GET", "/2.0/workspaces/acme/audit", nil, [200, 200, 403, 403, 403, 404, 401]),
        ("GET", "/2.0/user", nil, [200, 200, 200, 200, 200, 200, 401]),
        ("GET", "/2.0/users/owner/ssh-keys", nil, [200, 404, 404, 404, 404, 404, 401]),
        ("GET", "/2.0/hostkeys", nil, [200, 200, 200, 200, 200, 200, 200]),
    ]

    @Test("each endpoint answers each kind of caller as the permission rules say", arguments: matrix.indices)
    func permissionMatrix(index: Int) async throws {
        let row = Self.matrix[index]
        try await TestGatehouse.with { gatehouse in
            let tokens = try await Self.callers(gatehouse)
            for (caller, expected) in zip(Caller.allCases, row.expected) {
                // A fresh key for each caller, so that a successful POST never makes the next one a duplicate.
                let attached = try await gatehouse.addDeployKey(try await gatehouse.key(), to: ["acme/app"], label: "existing")
                let path = row.path.replacingOccurrences(of: "KEYID", with: String(attached[0].id))
                    .replacingOccurrences(of: "/created", with: "/created-\(caller.username)")
                let body = try await row.body.asyncMap { $0.replacingOccurrences(of: "NEWKEY", with: try await gatehouse.key().publicKey) }
                let auth = tokens[caller].map { Credential.basic(caller.username, $0) }
                let response = try await gatehouse.api.request(row.method, path, auth: auth, body: body)
                #expect(response.status == expected, "\(row.method) \(path) as \(caller): \(response)")
                if expected == 401 { #expect(response.headers["www-authenticate"]?.contains("Basic") == true) }
                if expected >= 400 { #expect(response.json["type"].string == "error", "\(caller): \(response)") }
            }
        }
    }

    @Test("a workspace's repository list shows each caller exactly the repositories it may read")
    func listedPerCaller() async throws {
        try await TestGatehouse.with { gatehouse in
            let tokens = try await Self.callers(gatehouse)
            _ = try await gatehouse.repository("acme/site", isPublic: true)
            _ = try await gatehouse.repository("acme/vault")
            try await gatehouse.data.directory.grant(repository: "acme/vault", username: Caller.outsider.username, level: .read)
            let expected: [Caller: [String]] = [
                .owner: ["app", "site", "vault"], .workspaceAdmin: ["app", "site", "vault"], .repositoryAdmin: ["app", "site"],
                .writer: ["app", "site"], .reader: ["app", "site"], .outsider: ["site", "vault"], .anonymous: ["site"],
            ]
            for caller in Caller.allCases {
                let listed = try await gatehouse.api.request("GET", "/2.0/repositories/acme", auth: tokens[caller].map { .basic(caller.username, $0) })
                #expect(listed.json["values"].array.compactMap { $0["slug"].string }.sorted() == expected[caller], "\(caller): \(listed)")
                #expect(listed.json["size"].int == expected[caller]?.count, "\(caller)")
            }
        }
    }

    @Test("a private repository the caller cannot see answers exactly like one that does not exist")
    func noExistenceLeak() async throws {
        try await TestGatehouse.with { gatehouse in
            let tokens = try await Self.callers(gatehouse)
            let auth = Credential.basic("outsider", tokens[.outsider]!)
            for suffix in ["", "/deploy-keys", "/deploy-keys/1"] {
                let hidden = try await gatehouse.api.request("GET", "/2.0/repositories/acme/app\(suffix)", auth: auth)
                let missing = try await gatehouse.api.request("GET", "/2.0/repositories/acme/ghost\(suffix)", auth: auth)
                #expect(hidden.status == 404 && missing.status == 404)
                let same = APIResponse(
                    status: missing.status, headers: missing.headers,
                    body: missing.body.replacingOccurrences(of: "acme/ghost", with: "acme/app"))
                #expect(hidden.json.raw as? NSDictionary == same.json.raw as? NSDictionary, "\(hidden) vs \(missing)")
            }
        }
    }

    @Test("a workspace the caller cannot see answers exactly like one that does not exist")
    func noWorkspaceExistenceLeak() async throws {
        try await TestGatehouse.with { gatehouse in
            let tokens = try await Self.callers(gatehouse)
            for auth in [Credential.basic("outsider", tokens[.outsider]!), nil] {
                for (method, path, body) in [
                    ("GET", "/2.0/repositories/WS", nil), ("POST", "/2.0/repositories/WS/new", "{}"), ("GET", "/2.0/workspaces/WS/audit", nil),
                    ("GET", "/2.0/workspaces/WS/deploy-keys", nil),
                ] as [(String, String, String?)] {
                    let hidden = try await gatehouse.api.request(method, path.replacingOccurrences(of: "WS", with: "acme"), auth: auth, body: body)
                    let missing = try await gatehouse.api.request(method, path.replacingOccurrences(of: "WS", with: "ghost"), auth: auth, body: body)
                    // Signed in, "not found"; anonymous, the list too is "not found" and the rest asks for a sign-in.
                    let expected = auth != nil || method == "GET" && path == "/2.0/repositories/WS" ? 404 : 401
                    #expect(hidden.status == expected && missing.status == expected, "\(method) \(path): \(hidden) vs \(missing)")
                    let same = missing.body.replacingOccurrences(of: "ghost", with: "acme")
                    #expect(hidden.json.raw as? NSDictionary == APIResponse(status: 0, headers: [:], body: same).json.raw as? NSDictionary, "\(method) \(path)")
                }
            }
        }
    }

    /// Seeds the roles and returns each signed-in caller's token (all scopes).
    static func callers(_ gatehouse: TestGatehouse) async throws -> [Caller: String] {
        for caller in Caller.allCases where caller != .anonymous { try await gatehouse.user(caller.username) }
        try await gatehouse.workspace("acme", owner: Caller.owner.username)
        try await gatehouse.repository("acme/app")
        try await gatehouse.data.directory.setMember(workspace: "acme", username: Caller.workspaceAdmin.username, role: .admin)
        for (caller, level) in [(Caller.repositoryAdmin, AccessLevel.admin), (.writer, .write), (.reader, .read)] {
            try await gatehouse.data.directory.grant(repository: "acme/app", username: caller.username, level: level)
        }
        var tokens: [Caller: String] = [:]
        for caller in Caller.allCases where caller != .anonymous { tokens[caller] = try await gatehouse.token(caller.username) }
        return tokens
    }

    @Test("a token is limited by its scopes: 403 naming the missing scope, while its owner's permissions still apply")
    func scopes() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let readOnly = Credential.basic("olivia", try await gatehouse.token("olivia", scopes: [.repository]))
            let listed = try await gatehouse.api.request("GET", "/2.0/repositories/acme/app/deploy-keys", auth: readOnly)
            #expect(listed.status == 403 && listed.errorMessage == "This API token lacks the repository:admin scope.", "\(listed)")
            #expect(try await gatehouse.api.request("GET", "/2.0/repositories/acme/app", auth: readOnly).status == 200)
            #expect(try await gatehouse.api.request("GET", "/2.0/user", auth: readOnly).status == 403)
            let accountOnly = Credential.basic("olivia", try await gatehouse.token("olivia", scopes: [.account]))
            #expect(try await gatehouse.api.request("GET", "/2.0/user", auth: accountOnly).status == 200)
            let key = try await gatehouse.key()
            let added = try await gatehouse.api.request(
                "POST", "/2.0/users/olivia/ssh-keys", auth: accountOnly,
                body: #"{"key": "\#(key.publicKey)", "label": "x"}"#)
            #expect(added.status == 403 && added.errorMessage == "This API token lacks the account:write scope.", "\(added)")
        }
    }

    /// Credentials that must all be refused with 401.
    static let badCredentials: [(name: String, credential: @Sendable (String) -> Credential)] = [
        ("unknown token", { _ in .basic("olivia", "ght_not-a-real-token") }),
        ("someone else's user name", { token in .basic("rita", token) }),
        ("password-like secret", { _ in .basic("olivia", "hunter2") }),
        ("unknown scheme", { token in .header("Token \(token)") }),
        ("Basic without a colon", { _ in .header("Basic " + Data("olivia".utf8).base64EncodedString()) }),
        ("Basic not base64", { _ in .header("Basic !!!") }),
    ]

    @Test("bad credentials get 401 with WWW-Authenticate, never anonymous access", arguments: badCredentials.indices)
    func refusesBadCredentials(index: Int) async throws {
        let row = Self.badCredentials[index]
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            try await gatehouse.user("rita")
            let token = try await gatehouse.token("olivia")
            let response = try await gatehouse.api.request("GET", "/2.0/hostkeys", auth: row.credential(token))
            #expect(response.status == 401, "\(row.name): \(response)")
            #expect(response.headers["www-authenticate"]?.contains("Bearer") == true, "\(row.name)")
        }
    }

    @Test("Basic with the e-mail address, and Bearer, both work; a revoked or expired token stops working")
    func tokenLifecycle() async throws {
        try await TestGatehouse.with { gatehouse in
            _ = try await gatehouse.seeded(repositories: ["acme/app"])
            let issued = try await gatehouse.data.tokens.create(actor: .localOperator, username: "olivia", name: "ci", scopes: [.account], expiresAt: nil)
            for auth in [Credential.basic("olivia@example.com", issued.secret), .bearer(issued.secret)] {
                let me = try await gatehouse.api.request("GET", "/2.0/user", auth: auth)
                #expect(me.status == 200 && me.json["username"].string == "olivia", "\(me)")
            }
            #expect(try await gatehouse.data.tokens.list(actor: .localOperator, username: "olivia").first?.lastUsed != nil)
            try await gatehouse.data.tokens.revoke(actor: .localOperator, username: "olivia", id: issued.token.id)
            #expect(try await gatehouse.api.request("GET", "/2.0/user", auth: .bearer(issued.secret)).status == 401)

            // A token made two days ago that expired yesterday.
            let past = TokenService(store: gatehouse.data.store, clock: { Date().addingTimeInterval(-2 * 86_400) })
            let expired = try await past.create(
                actor: .localOperator, username: "olivia", name: "old", scopes: [.account],
                expiresAt: Date().addingTimeInterval(-86_400))
            #expect(try await gatehouse.api.request("GET", "/2.0/user", auth: .bearer(expired.secret)).status == 401)
            let audit = try await gatehouse.data.store.auditEntries(workspace: nil, limit: 10).map(\.action)
            #expect(audit.contains(.tokenCreated) && audit.contains(.tokenRevoked))
        }
    }

    @Test("tokens are stored only as a hash")
    func storedHashed() async throws {
        try await TestGatehouse.with { gatehouse in
            try await gatehouse.user("olivia")
            let secret = try await gatehouse.token("olivia")
            let database = try Data(contentsOf: gatehouse.data.url.appendingPathComponent("gatehouse.sqlite"))
            let wal = (try? Data(contentsOf: gatehouse.data.url.appendingPathComponent("gatehouse.sqlite-wal"))) ?? Data()
            #expect(database.range(of: Data(secret.utf8)) == nil && wal.range(of: Data(secret.utf8)) == nil)
            #expect(secret.hasPrefix("ght_") && secret.count >= 4 + 43)
            #expect(wal.range(of: Data(TokenSecret.hash(secret).utf8)) != nil || database.range(of: Data(TokenSecret.hash(secret).utf8)) != nil)
        }
    }
}

extension Optional {
    func asyncMap<T>(_ transform: (Wrapped) async throws -> T) async rethrows -> T? {
        guard let value = self else { return nil }
        return try await transform(value)
    }
}
