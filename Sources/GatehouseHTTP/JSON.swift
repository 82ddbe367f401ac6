import Foundation
import Hummingbird
import NIOCore

/// JSON in and out, with the API's date format and clear refusals for bodies it cannot read.
enum JSON {
    static func encode(_ value: some Encodable) -> ByteBuffer {
        // Encoding our own value types cannot fail; a failure here is a programming error worth crashing on in tests.
        ByteBuffer(data: try! encoder.encode(value))
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: encode(value)))
    }

    /// Reads a JSON request body: `Content-Type: application/json`, at most `limit` bytes, UTF-8,
    /// and the fields `T` requires. Unknown fields are ignored, as Bitbucket does.
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int) async throws -> T {
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        guard contentType.hasPrefix("application/json") else {
            throw APIError(.unsupportedMediaType, "The request body must be JSON.", detail: "Send it with the header Content-Type: application/json.")
        }
        let buffer = try await body(of: request, limit: limit)
        let bytes = Data(buffer.readableBytesView)
        guard String(bytes: bytes, encoding: .utf8) != nil else {
            throw APIError(.badRequest, "The request body is not valid UTF-8.", detail: "Send the JSON document encoded as UTF-8.")
        }
        do {
            return try JSONDecoder().decode(T.self, from: bytes)
        } catch DecodingError.keyNotFound(let key, let context) {
            throw APIError(.badRequest, "The field `\(path(context.codingPath + [key]))` is required.", detail: "See /2.0/openapi.json for this request's fields.")
        } catch DecodingError.valueNotFound(_, let context) {
            throw APIError(.badRequest, "The field `\(path(context.codingPath))` must not be null.", detail: "See /2.0/openapi.json for this request's fields.")
        } catch DecodingError.typeMismatch(let expected, let context) {
            throw APIError(.badRequest, "The field `\(path(context.codingPath))` must be \(describe(expected)).", detail: "See /2.0/openapi.json for this request's fields.")
        } catch {
            throw APIError(.badRequest, "The request body is not valid JSON.", detail: "Send a JSON object, e.g. {\"label\": \"...\", \"key\": \"...\"}.")
        }
    }

    /// `decode`, except that a body that cannot be read is reported only after `access` passed: callers who may
    /// not see the resource learn nothing from body errors, and a good request does not check access twice
    /// (the service it goes to checks).
    static func decode<T: Decodable>(_ type: T.Type, from request: Request, limit: Int,
                                     checkingFirst access: () async throws -> Void) async throws -> T {
        do {
            return try await decode(type, from: request, limit: limit)
        } catch {
            try await access()
            throw error
        }
    }

    /// The whole body, or 413 naming the limit when it is longer than `limit` bytes.
    static func body(of request: Request, limit: Int) async throws -> ByteBuffer {
        var request = request
        do {
            return try await request.collectBody(upTo: limit)
        } catch is NIOTooManyBytesError {
            throw APIError(.contentTooLarge, "The request body is larger than \(limit / 1024) KiB. Send a smaller document.",
                           detail: "The server's limit is the setting http.max-body-kib.")
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

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestamp(date))
        }
        return encoder
    }()

    /// RFC 3339 with milliseconds, as Bitbucket sends dates.
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
