import Foundation
import GatehouseHTTP
import Logging
import ServiceLifecycle

/// The REST API served in-process on an ephemeral loopback port, driven by the real `curl`.
struct TestAPI: Sendable {
    let port: Int
    private let group: ServiceGroup
    private let task: Task<Void, any Error>

    static func start(_ server: APIServer, logger: Logger) async throws -> TestAPI {
        let (ports, continuation) = AsyncStream.makeStream(of: Int.self)
        let application = server.application(host: "127.0.0.1", port: 0) { continuation.yield($0) }
        let group = ServiceGroup(services: [application], logger: logger)
        let task = Task { try await group.run() }
        var iterator = ports.makeAsyncIterator()
        guard let port = await iterator.next() else { throw TestSetupError("the API server did not start") }
        return TestAPI(port: port, group: group, task: task)
    }

    func stop() async {
        await group.triggerGracefulShutdown()
        _ = await task.result
    }

    var base: String { "http://127.0.0.1:\(port)" }

    /// Sends one request with curl. `body` goes out as `Content-Type: application/json` unless `contentType` says otherwise.
    func request(
        _ method: String, _ path: String, auth: Credential? = nil, body: String? = nil,
        contentType: String = "application/json", extraArguments: [String] = []
    ) async throws -> APIResponse {
        var arguments = ["-sS", "-i", "-X", method, "-w", "\n%{http_code}", "-H", "Expect:"]
        switch auth {
        case .basic(let user, let secret): arguments += ["-u", "\(user):\(secret)"]
        case .bearer(let secret): arguments += ["-H", "Authorization: Bearer \(secret)"]
        case .header(let value): arguments += ["-H", "Authorization: \(value)"]
        case nil: break
        }
        if let body {
            arguments += ["-H", "Content-Type: \(contentType)", "--data-binary", "@-"]
            _ = body
        }
        arguments += extraArguments + [path.hasPrefix("http") ? path : base + path]
        let result = try await runCommand("curl", arguments, input: body)
        guard result.succeeded else { throw TestSetupError("curl failed: \(result)") }
        return try APIResponse(curlOutput: result.stdout)
    }

    /// Sends a body of raw bytes from a file (for non-UTF-8 and oversized bodies).
    func request(_ method: String, _ path: String, auth: Credential?, bodyFile: URL, contentType: String = "application/json") async throws -> APIResponse {
        try await request(
            method, path, auth: auth, contentType: contentType,
            extraArguments: ["-H", "Content-Type: \(contentType)", "--data-binary", "@\(bodyFile.path)"])
    }
}

enum Credential: Sendable {
    case basic(String, String)
    case bearer(String)
    case header(String)
}

/// Status, headers and JSON body of one response.
struct APIResponse: CustomStringConvertible {
    var status: Int
    var headers: [String: String]
    var body: String

    init(status: Int, headers: [String: String], body: String) {
        self.status = status
        self.headers = headers
        self.body = body
    }

    init(curlOutput: String) throws {
        guard let split = curlOutput.range(of: "\n", options: .backwards), let status = Int(curlOutput[split.upperBound...]) else {
            throw TestSetupError("no status in curl output: \(curlOutput)")
        }
        self.status = status
        let response = String(curlOutput[..<split.lowerBound])
        let parts = response.components(separatedBy: "\r\n\r\n")
        var headers: [String: String] = [:]
        for line in parts[0].components(separatedBy: "\r\n").dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        self.headers = headers
        body = parts.dropFirst().joined(separator: "\r\n\r\n")
    }

    /// The body as JSON; `[:]` when it is empty.
    var json: JSONValue {
        guard let data = body.data(using: .utf8), !data.isEmpty, let value = try? JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed]) else {
            return JSONValue(nil)
        }
        return JSONValue(value)
    }

    /// The error message of a Bitbucket-shaped error body.
    var errorMessage: String? { json["error"]["message"].string }

    var description: String { "HTTP \(status) \(body)" }
}

/// Navigates parsed JSON without casts at every step: `json["values"][0]["id"].int`.
struct JSONValue: @unchecked Sendable {
    let raw: Any?

    init(_ raw: Any?) { self.raw = raw }

    subscript(key: String) -> JSONValue { JSONValue((raw as? [String: Any])?[key]) }
    subscript(index: Int) -> JSONValue {
        guard let array = raw as? [Any], array.indices.contains(index) else { return JSONValue(nil) }
        return JSONValue(array[index])
    }

    var string: String? { raw as? String }
    var int: Int? { (raw as? NSNumber).map(\.intValue) }
    var bool: Bool? { (raw as? NSNumber).map(\.boolValue) }
    var array: [JSONValue] { (raw as? [Any])?.map(JSONValue.init) ?? [] }
    var keys: Set<String> { Set((raw as? [String: Any])?.keys.map { $0 } ?? []) }
    var isNull: Bool { raw is NSNull }
    var exists: Bool { raw != nil }
}
