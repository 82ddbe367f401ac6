import Foundation
import Hummingbird
import NIOCore

/// Reads a JSON request body: `Content-Type: application/json`, at most the context's `maxUploadSize` bytes,
/// UTF-8, and the fields `T` requires, each refusal saying what to send instead. Unknown fields are ignored, as
/// Bitbucket does.
public struct APIRequestDecoder: RequestDecoder {
    public func decode<T: Decodable>(_ type: T.Type, from request: Request, context: some RequestContext) async throws -> T {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            throw APIError(.unsupportedMediaType, "The request body must be JSON.", detail: "Send it with the header Content-Type: application/json.")
        }
        let buffer = try await request.body.collect(upTo: context.maxUploadSize)
        return try Self.decode(type, from: Data(buffer.readableBytesView))
    }

    /// A JSON body's bytes as `T`, or the `APIError` that says what to send instead.
    static func decode<T: Decodable>(_ type: T.Type, from bytes: Data) throws -> T {
        guard String(bytes: bytes, encoding: .utf8) != nil else {
            throw APIError(.badRequest, "The request body is not valid UTF-8.", detail: "Send the JSON document encoded as UTF-8.")
        }
        let fields = "See /2.0/openapi.json for this request's fields."
        do {
            return try JSONDecoder().decode(T.self, from: bytes)
        } catch DecodingError.keyNotFound(let key, let context) {
            throw APIError(.badRequest, "The field `\(Self.path(context.codingPath + [key]))` is required.", detail: fields)
        } catch DecodingError.valueNotFound(_, let context) {
            throw APIError(.badRequest, "The field `\(Self.path(context.codingPath))` must not be null.", detail: fields)
        } catch DecodingError.typeMismatch(let expected, let context) {
            throw APIError(.badRequest, "The field `\(Self.path(context.codingPath))` must be \(Self.describe(expected)).", detail: fields)
        } catch {
            throw APIError(.badRequest, "The request body is not valid JSON.", detail: "Send a JSON object, e.g. {\"label\": \"...\", \"key\": \"...\"}.")
        }
    }

    private static func path(_ codingPath: [any CodingKey]) -> String {
        codingPath.isEmpty ? "(body)" : codingPath.map(\.stringValue).joined(separator: ".")
    }

    private static func describe(_ type: Any.Type) -> String {
        switch type {
        case is String.Type: "a string"
        case is Bool.Type: "true or false"
        case is Int.Type: "an integer"
        default: "of another type"
        }
    }
}

extension Request {
    /// The body as `T`, except that a body that cannot be read is reported only after `access` passed: callers who
    /// may not see the resource learn nothing from body errors, and a good request does not check access twice
    /// (the service it goes to checks).
    func decode<T: Decodable>(as type: T.Type, context: APIContext, checkingFirst access: () async throws -> Void) async throws -> T {
        try await validated({ try await decode(as: type, context: context) }, checkingFirst: access)
    }
}

/// `body`'s value, except that its refusal is reported only after `access` passed (as for unreadable bodies).
func validated<T>(_ body: () async throws -> T, checkingFirst access: () async throws -> Void) async throws -> T {
    do {
        return try await body()
    } catch {
        try await access()
        throw error
    }
}
