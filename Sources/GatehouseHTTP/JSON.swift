import Foundation
import Hummingbird
import NIOCore

/// JSON responses with the API's date format (requests are read by `APIRequestDecoder`).
enum JSON {
    static func encode(_ value: some Encodable) -> ByteBuffer {
        // Encoding our own value types cannot fail; a failure here is a programming error worth crashing on in tests.
        ByteBuffer(data: try! encoder.encode(value))
    }

    static func response(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: .init(byteBuffer: encode(value)))
    }

    private static let encoder = makeEncoder()

    /// The API's encoder; `formatting` adds to its output formatting (the CLI prints JSON for people too).
    static func makeEncoder(formatting: JSONEncoder.OutputFormatting = []) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = formatting.union(.withoutEscapingSlashes)
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(timestamp(date))
        }
        return encoder
    }

    /// RFC 3339 with milliseconds, as Bitbucket sends dates.
    static func timestamp(_ date: Date) -> String {
        date.formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true).timeZone(separator: .omitted))
    }
}
