import Foundation
import GatehouseCore
import Hummingbird
import HummingbirdTesting
import Logging
import Testing

@testable import GatehouseHTTP

/// The REST API in-process (HummingbirdTesting, no sockets) on a real SQLite database: who gets which status on
/// each endpoint, and how every kind of error is answered. The end-to-end tests drive the same API with curl.
@Suite("REST API in-process: the permission matrix and the error mapping")
struct APIRouterTests {
    /// Everyone who can call, each with a token of every scope unless the name says otherwise.
    enum Caller: String, CaseIterable, Sendable {
        case owner, workspaceAdmin, repositoryAdmin, writer, reader, outsider, anonymous
        /// The owner's token without `repository:admin`.
        case ownerWithReadToken
    }

    struct Row: Sendable, CustomTestStringConvertible {
        var caller: Caller
        var listKeys: Int
        var addKey: Int
        var readRepository: Int
        var testDescription: String { caller.rawValue }
    }

    static let matrix: [Row] = [
        Row(caller: .owner, listKeys: 200, addKey: 200, readRepository: 200),
        Row(caller: .workspaceAdmin, listKeys: 200, addKey: 200, readRepository: 200),
        Row(caller: .repositoryAdmin, listKeys: 200, addKey: 200, readRepository: 200),
        Row(caller: .writer, listKeys: 403, addKey: 403, readRepository: 200),
        Row(caller: .reader, listKeys: 403, addKey: 403, readRepository: 200),
        Row(caller: .outsider, listKeys: 404, addKey: 404, readRepository: 404),
        Row(caller: .anonymous, listKeys: 401, addKey: 401, readRepository: 404),
        Row(caller: .ownerWithReadToken, listKeys: 403, addKey: 403, readRepository: 200),
    ]

    @Test("deployment keys of a private repository: each caller's status", arguments: matrix)
    func permissionMatrix(row: Row) async throws {
        try await withAPI { api in
            let client = api.client
            let path = "/2.0/repositories/acme/app"
            try await client.execute(uri: path + "/deploy-keys", method: .get, headers: api.headers(row.caller)) { response in
                #expect(response.status.code == row.listKeys, "list: \(String(buffer: response.body))")
            }
            let body = #"{"label": "ci", "key": "\#(TestKey.random().line)"}"#
            try await client.execute(
                uri: path + "/deploy-keys", method: .post, headers: api.headers(row.caller, json: true),
                body: ByteBuffer(string: body)
            ) { response in
                #expect(response.status.code == row.addKey, "add: \(String(buffer: response.body))")
                if row.addKey >= 400 { #expect(String(buffer: response.body).contains(#""type":"error""#)) }
            }
            try await client.execute(uri: path, method: .get, headers: api.headers(row.caller)) { response in
                #expect(response.status.code == row.readRepository, "read: \(String(buffer: response.body))")
            }
        }
    }

    @Test("a private repository the caller cannot see and a missing one get the same answer")
    func hiddenLooksMissing() async throws {
        try await withAPI { api in
            let hidden = try await api.client.execute(uri: "/2.0/repositories/acme/app/deploy-keys", method: .get, headers: api.headers(.outsider))
            let missing = try await api.client.execute(uri: "/2.0/repositories/acme/nothing/deploy-keys", method: .get, headers: api.headers(.outsider))
            #expect(hidden.status == missing.status)
            // Parsed, since the encoder does not promise an order of keys.
            func parsed(_ body: ByteBuffer, naming name: String) throws -> NSDictionary? {
                let text = String(buffer: body).replacingOccurrences(of: name, with: "X")
                return try JSONSerialization.jsonObject(with: Data(text.utf8)) as? NSDictionary
            }
            #expect(try parsed(hidden.body, naming: "acme/app") == parsed(missing.body, naming: "acme/nothing"))
        }
    }

    struct ErrorCase: Sendable, CustomTestStringConvertible {
        var name: String
        var method: HTTPRequest.Method
        var path: String
        var contentType: String?
        var body: String?
        var status: Int
        var says: String
        var testDescription: String { name }
    }

    static let errors: [ErrorCase] = [
        ErrorCase(
            name: "a body that is not JSON", method: .post, path: "/2.0/repositories/acme/app/deploy-keys", contentType: "text/plain", body: "x",
            status: 415, says: "Content-Type: application/json"),
        ErrorCase(
            name: "a missing field", method: .post, path: "/2.0/repositories/acme/app/deploy-keys", contentType: "application/json",
            body: #"{"label": "ci"}"#, status: 400, says: "`key` is required"),
        ErrorCase(
            name: "a body over the limit", method: .post, path: "/2.0/repositories/acme/app/deploy-keys", contentType: "application/json",
            body: #"{"label": ""# + String(repeating: "a", count: 70_000) + #""}"#, status: 413, says: "http.max-body-kib"),
        ErrorCase(
            name: "a key that is not a key", method: .post, path: "/2.0/repositories/acme/app/deploy-keys", contentType: "application/json",
            body: #"{"label": "ci", "key": "hello"}"#, status: 400, says: "key"),
        ErrorCase(name: "a path that does not exist", method: .get, path: "/2.0/nothing/here", status: 404, says: "openapi.json"),
        ErrorCase(
            name: "a known path with another method", method: .patch, path: "/2.0/repositories/acme/app/deploy-keys", status: 405,
            says: "GET, HEAD, POST"),
        ErrorCase(
            name: "a server fault (the disk refuses the new repository)", method: .post, path: "/2.0/repositories/acme/new",
            contentType: "application/json", body: "{}", status: 500, says: "Something went wrong on the server"),
    ]

    @Test("every kind of error in Bitbucket's envelope, with the right status", arguments: errors)
    func errorMapping(error: ErrorCase) async throws {
        try await withAPI { api in
            var headers = api.headers(.owner)
            if let type = error.contentType { headers[.contentType] = type }
            try await api.client.execute(uri: error.path, method: error.method, headers: headers, body: error.body.map { ByteBuffer(string: $0) }) { response in
                let text = String(buffer: response.body)
                #expect(response.status.code == error.status, "\(text)")
                #expect(text.contains(#""type":"error""#) && text.contains(error.says), "\(text)")
                #expect(!text.contains("DiskFull"), "server faults name no internals: \(text)")
            }
        }
    }

    @Test("write-enabled keys: permission and ref_rules on POST, PUT and every representation; write without rules is refused")
    func writeKeysThroughTheAPI() async throws {
        try await withAPI { api in
            let path = "/2.0/repositories/acme/app/deploy-keys"
            let headers = api.headers(.owner, json: true)
            let noRules = #"{"label": "ci", "key": "\#(TestKey.random().line)", "permission": "write"}"#
            let refused = try await api.client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: noRules))
            #expect(refused.status == .badRequest && String(buffer: refused.body).contains("at least one ref rule"), "\(String(buffer: refused.body))")
            let shortPattern = #"{"label": "ci", "key": "\#(TestKey.random().line)", "permission": "write", "ref_rules": [{"pattern": "v*"}]}"#
            let short = try await api.client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: shortPattern))
            #expect(short.status == .badRequest && String(buffer: short.body).contains("refs/tags/v*"), "\(String(buffer: short.body))")

            let body =
                #"{"label": "jenkins", "key": "\#(TestKey.random().line)", "permission": "write", "ref_rules": [{"pattern": "refs/tags/v*", "allow": ["create"]}]}"#
            let added = try await api.client.execute(uri: path, method: .post, headers: headers, body: ByteBuffer(string: body))
            let json = try JSONSerialization.jsonObject(with: Data(buffer: added.body)) as? [String: Any]
            #expect(added.status == .ok && json?["permission"] as? String == "write", "\(String(buffer: added.body))")
            #expect((json?["ref_rules"] as? [[String: Any]])?.first?["allow"] as? [String] == ["create"])
            let id = try #require(json?["id"] as? Int)

            let readOnly = try await api.client.execute(
                uri: "\(path)/\(id)", method: .put, headers: headers, body: ByteBuffer(string: #"{"permission": "read"}"#))
            let changed = try JSONSerialization.jsonObject(with: Data(buffer: readOnly.body)) as? [String: Any]
            #expect(readOnly.status == .ok && changed?["permission"] as? String == "read" && (changed?["ref_rules"] as? [Any])?.isEmpty == true)
            #expect(changed?["label"] as? String == "jenkins", "a permission change keeps the label")
        }
    }

    @Test("workspace deployment keys through the API: workspace administrators only, selector and permission editable")
    func workspaceKeysThroughTheAPI() async throws {
        try await withAPI { api in
            let path = "/2.0/workspaces/acme/deploy-keys"
            let body = #"{"label": "fleet", "key": "\#(TestKey.random().line)", "repositories": ["web-*"]}"#
            let byRepositoryAdmin = try await api.client.execute(
                uri: path, method: .post, headers: api.headers(.repositoryAdmin, json: true), body: ByteBuffer(string: body))
            #expect(byRepositoryAdmin.status == .forbidden, "\(String(buffer: byRepositoryAdmin.body))")
            let byOutsider = try await api.client.execute(uri: path, method: .get, headers: api.headers(.outsider))
            // acme has no repository the outsider can read: to it the workspace is not there.
            #expect(byOutsider.status == .notFound)

            let added = try await api.client.execute(
                uri: path, method: .post, headers: api.headers(.workspaceAdmin, json: true), body: ByteBuffer(string: body))
            let json = try JSONSerialization.jsonObject(with: Data(buffer: added.body)) as? [String: Any]
            #expect(added.status == .ok && json?["repositories"] as? [String] == ["web-*"] && json?["permission"] as? String == "read")
            let id = try #require(json?["id"] as? Int)
            let all = try await api.client.execute(
                uri: "\(path)/\(id)", method: .put, headers: api.headers(.owner, json: true), body: ByteBuffer(string: #"{"repositories": "all"}"#))
            #expect(all.status == .ok && String(buffer: all.body).contains(#""repositories":"all""#), "\(String(buffer: all.body))")
            let listed = try await api.client.execute(uri: path, method: .get, headers: api.headers(.owner))
            let page = try JSONSerialization.jsonObject(with: Data(buffer: listed.body)) as? [String: Any]
            #expect(page?["size"] as? Int == 1)
            let removed = try await api.client.execute(uri: "\(path)/\(id)", method: .delete, headers: api.headers(.owner))
            #expect(removed.status == .noContent)
            let gone = try await api.client.execute(uri: "\(path)/\(id)", method: .get, headers: api.headers(.owner))
            #expect(gone.status == .notFound)
        }
    }

    @Test("bulk attach and where-is-this-key through the API")
    func fleetThroughTheAPI() async throws {
        try await withAPI { api in
            let key = TestKey.random()
            let body = #"{"label": "ci", "key": "\#(key.line)", "repositories": ["app", "app"]}"#
            let attached = try await api.client.execute(
                uri: "/2.0/workspaces/acme/deploy-keys/attach", method: .post, headers: api.headers(.owner, json: true), body: ByteBuffer(string: body))
            let page = try JSONSerialization.jsonObject(with: Data(buffer: attached.body)) as? [String: Any]
            let values = page?["values"] as? [[String: Any]]
            #expect(attached.status == .ok && values?.map { $0["status"] as? String } == ["created"], "\(String(buffer: attached.body))")
            let again = try await api.client.execute(
                uri: "/2.0/workspaces/acme/deploy-keys/attach", method: .post, headers: api.headers(.owner, json: true), body: ByteBuffer(string: body))
            #expect(String(buffer: again.body).contains(#""status":"already_attached""#), "\(String(buffer: again.body))")
            let fingerprint = key.fingerprint.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
            let usage = try await api.client.execute(
                uri: "/2.0/workspaces/acme/deploy-keys/usage?fingerprint=\(fingerprint)", method: .get, headers: api.headers(.owner))
            let json = try JSONSerialization.jsonObject(with: Data(buffer: usage.body)) as? [String: Any]
            #expect(usage.status == .ok && (json?["repositories"] as? [Any])?.count == 1, "\(String(buffer: usage.body))")
            // A reader sees the workspace but administers nothing in it; to an outsider the workspace is not there.
            let reader = try await api.client.execute(
                uri: "/2.0/workspaces/acme/deploy-keys/usage?fingerprint=\(fingerprint)", method: .get, headers: api.headers(.reader))
            let hidden = try JSONSerialization.jsonObject(with: Data(buffer: reader.body)) as? [String: Any]
            #expect(reader.status == .ok && (hidden?["repositories"] as? [Any])?.isEmpty == true, "\(String(buffer: reader.body))")
            let outsider = try await api.client.execute(
                uri: "/2.0/workspaces/acme/deploy-keys/usage?fingerprint=\(fingerprint)", method: .get, headers: api.headers(.outsider))
            #expect(outsider.status == .notFound, "\(String(buffer: outsider.body))")
        }
    }

    @Test("behind a trusted proxy, links use the scheme and host the client used; untrusted, the headers are ignored", arguments: [true, false])
    func forwardedHeaders(trusted: Bool) async throws {
        try await withAPI(trustForwardedHeaders: trusted) { api in
            var headers = api.headers(.owner)
            headers[ForwardedHeadersMiddleware.proto] = "https"
            headers[ForwardedHeadersMiddleware.host] = "git.example.com"
            // Two keys and a page of one, so that the page has a `next` link.
            for _ in 0..<2 {
                let body = #"{"label": "ci", "key": "\#(TestKey.random().line)"}"#
                let added = try await api.client.execute(
                    uri: "/2.0/repositories/acme/app/deploy-keys", method: .post, headers: api.headers(.owner, json: true), body: ByteBuffer(string: body))
                #expect(added.status == .ok, "\(String(buffer: added.body))")
            }
            let response = try await api.client.execute(uri: "/2.0/repositories/acme/app/deploy-keys?pagelen=1", method: .get, headers: headers)
            let page = try JSONSerialization.jsonObject(with: Data(buffer: response.body)) as? [String: Any]
            let first = (page?["values"] as? [[String: Any]])?.first
            let href = ((first?["links"] as? [String: Any])?["self"] as? [String: Any])?["href"] as? String
            // Untrusted, the links keep the address the request came to (the test client's), never the headers'.
            let base = trusted ? "https://git.example.com" : "http://"
            #expect(response.status == .ok, "\(String(buffer: response.body))")
            #expect(String(buffer: response.body).contains("git.example.com") == trusted, "\(String(buffer: response.body))")
            #expect((page?["next"] as? String)?.hasPrefix(base) == true, "\(String(buffer: response.body))")
            #expect(href?.hasPrefix(base) == true, "\(String(buffer: response.body))")
            #expect((page?["next"] as? String)?.contains("/2.0/repositories/acme/app/deploy-keys?") == true)
        }
    }

    @Test("HEAD on a GET route answers like GET, without a body")
    func head() async throws {
        try await withAPI { api in
            for path in ["/2.0/repositories/acme/app", "/2.0/repositories/acme/app/deploy-keys", "/2.0/hostkeys", "/login"] {
                let get = try await api.client.execute(uri: path, method: .get, headers: api.headers(.owner))
                let head = try await api.client.execute(uri: path, method: .head, headers: api.headers(.owner))
                #expect(get.status == .ok && head.status == .ok, "\(path): GET \(get.status), HEAD \(head.status)")
                #expect(head.body.readableBytes == 0, "\(path)")
                #expect(head.headers[.contentType] == get.headers[.contentType], "\(path)")
            }
        }
    }

    @Test("the pages answer a refusal with the same not-found page, and an unknown page too")
    func pagesHideWhatExists() async throws {
        try await withAPI { api in
            let hidden = try await api.client.execute(uri: "/acme/app", method: .get)
            let missing = try await api.client.execute(uri: "/acme/nothing", method: .get)
            let unknown = try await api.client.execute(uri: "/a/b/c/d", method: .get)
            #expect(hidden.status == .notFound && missing.status == .notFound && unknown.status == .notFound)
            #expect(String(buffer: hidden.body) == String(buffer: missing.body))
            #expect(String(buffer: unknown.body).contains(Templates.notFound))
        }
    }
}

/// The API on an in-memory database with acme/app (private) and everyone of `APIRouterTests.Caller` set up.
struct TestAPIFixture {
    var client: any TestClientProtocol
    var tokens: [APIRouterTests.Caller: String]

    func headers(_ caller: APIRouterTests.Caller, json: Bool = false) -> HTTPFields {
        var headers: HTTPFields = [:]
        if let token = tokens[caller] { headers[.authorization] = "Bearer \(token)" }
        if json { headers[.contentType] = "application/json" }
        return headers
    }
}

func withAPI(trustForwardedHeaders: Bool = false, _ body: @escaping @Sendable (TestAPIFixture) async throws -> Void) async throws {
    try await withStore { store in
        let directory = DirectoryService(store: store, storage: TestStorage())
        let tokens = TokenService(store: store)
        for name in ["owner", "wsadmin", "repoadmin", "writer", "reader", "outsider"] {
            _ = try await directory.addUser(username: name, email: "\(name)@example.com")
        }
        _ = try await directory.addWorkspace(slug: "acme", owner: "owner", seatLimit: 10)
        try await directory.setMember(workspace: "acme", username: "wsadmin", role: .admin)
        _ = try await directory.createRepository("acme/app", isPrivate: true)
        try await directory.grant(repository: "acme/app", username: "repoadmin", level: .admin)
        try await directory.grant(repository: "acme/app", username: "writer", level: .write)
        try await directory.grant(repository: "acme/app", username: "reader", level: .read)
        let users: [APIRouterTests.Caller: String] = [
            .owner: "owner", .workspaceAdmin: "wsadmin", .repositoryAdmin: "repoadmin", .writer: "writer", .reader: "reader",
            .outsider: "outsider", .ownerWithReadToken: "owner",
        ]
        var secrets: [APIRouterTests.Caller: String] = [:]
        for (caller, username) in users {
            let scopes: [TokenScope] = caller == .ownerWithReadToken ? [.repository] : TokenScope.allCases
            secrets[caller] = try await tokens.create(actor: .localOperator, username: username, name: "test", scopes: scopes, expiresAt: nil).secret
        }
        // The disk refuses new repositories from here on: creating one through the API is a server fault.
        let failing = DirectoryService(store: store, storage: TestStorage(fails: true))
        let services = APIServer.Services(
            dataVersion: { nil }, directory: failing, keys: KeyService(store: store), tokens: tokens,
            sessions: SessionService(store: store, hasher: BcryptHasher()), registrations: RegistrationService(store: store, keys: KeyService(store: store)))
        let server = try APIServer(
            services: services, ssh: .init(port: 2222, user: "git", hostKeys: []), logger: Logger(label: "test"),
            trustForwardedHeaders: trustForwardedHeaders)
        let app = Application(router: server.router())
        let fixture = secrets
        try await app.test(.router) { client in
            try await body(TestAPIFixture(client: client, tokens: fixture))
        }
    }
}
