import Foundation
import HTTPTypes
import Hummingbird

/// With `http.trust-forwarded-headers`, a request is taken as the one proxy in front of Gatehouse says the client
/// sent it: `X-Forwarded-Proto` and `X-Forwarded-Host` for the links in responses (`next`, `links.self`), and
/// `X-Forwarded-For` for audit entries and sign-in limits, each the last value (the one that proxy wrote; the proxy
/// must set or overwrite all three). Off by default, because any client can send these headers when no proxy
/// strips them.
struct ForwardedHeadersMiddleware: RouterMiddleware {
    typealias Context = RequestOrigin

    static let proto = HTTPField.Name("X-Forwarded-Proto")!
    static let host = HTTPField.Name("X-Forwarded-Host")!
    static let forwardedFor = HTTPField.Name("X-Forwarded-For")!

    func handle(_ request: Request, context: RequestOrigin, next: (Request, RequestOrigin) async throws -> Response) async throws -> Response {
        var head = request.head
        var context = context
        // The last value of each is what the proxy next to Gatehouse wrote; earlier ones may be the client's own.
        if let proto = Self.values(request, Self.proto).last?.lowercased(), proto == "http" || proto == "https" { head.scheme = proto }
        if let host = Self.values(request, Self.host).last, Self.isHost(host) { head.authority = host }
        if let address = Self.values(request, Self.forwardedFor).last, Self.isAddress(address) { context.sourceIP = address }
        return try await next(Request(head: head, body: request.body), context)
    }

    /// The comma-separated values of every field with this name, trimmed.
    static func values(_ request: Request, _ name: HTTPField.Name) -> [String] {
        request.headers[values: name].flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
    }

    /// `host`, `host:port` or `[v6]:port`: nothing that could turn a link into another URL.
    static func isHost(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 255
            && text.unicodeScalars.allSatisfy {
                $0.isASCII && ($0.properties.isAlphabetic || $0.properties.numericType != nil || ".-:[]".unicodeScalars.contains($0))
            }
    }

    /// An IPv4 or IPv6 address as text.
    static func isAddress(_ text: String) -> Bool {
        !text.isEmpty && text.utf8.count <= 45 && text.unicodeScalars.allSatisfy { $0.properties.isASCIIHexDigit || ".:".unicodeScalars.contains($0) }
    }
}
