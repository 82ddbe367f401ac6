import GatehouseCore
import Hummingbird
import Metrics
import NIOCore

/// Successful API reads by caller and URL, while the data is unchanged (see `DataVersionCache`): a script
/// polling a list gets the bytes already encoded, and any commit — a key added by the CLI, a token revoked
/// on another node — is seen by the very next request.
struct ResponseCache: Sendable {
    struct Key: Hashable, Sendable {
        /// The caller with its token's scopes; the same URL answers each caller differently.
        var actor: Actor
        /// Scheme, host, path and query: links in the body are built from the host the client used.
        var url: String
    }

    struct Entry: Sendable {
        var headers: HTTPFields
        var body: ByteBuffer
    }

    /// Larger bodies (long audit pages) are rare and not worth the memory.
    static let largestBody = 32 * 1024
    let dataVersion: @Sendable () -> UInt64?
    private let entries = DataVersionCache<Key, Entry>(capacity: 1024)

    init(dataVersion: @escaping @Sendable () -> UInt64?) {
        self.dataVersion = dataVersion
    }

    /// The response for `request`: cached, or `handler`'s, kept when it is a 200 of modest size.
    func respond(to request: Request, context: APIContext, with handler: APIRouter.Handler) async throws -> Response {
        guard let version = dataVersion() else { return try await handler(request, context) }
        let key = Key(actor: context.actor, url: request.baseURL + request.uri.description)
        if let entry = entries.value(for: key, at: version) {
            Counter(label: "gatehouse_api_cache_hits_total").increment()
            return Response(status: .ok, headers: entry.headers, body: .init(byteBuffer: entry.body))
        }
        let response = try await handler(request, context)
        guard response.status == .ok, let length = response.body.contentLength, length <= Self.largestBody else { return response }
        let collected = CollectedBody()
        try await response.body.write(CollectingWriter(collected: collected))
        entries.store(Entry(headers: response.headers, body: collected.buffer), for: key, at: version)
        return Response(status: .ok, headers: response.headers, body: .init(byteBuffer: collected.buffer))
    }
}

/// Where `CollectingWriter` (a value, consumed by `ResponseBody.write`) leaves the bytes.
private final class CollectedBody: @unchecked Sendable {
    var buffer = ByteBuffer()
}

private struct CollectingWriter: ResponseBodyWriter {
    let collected: CollectedBody

    mutating func write(_ buffer: ByteBuffer) async throws {
        var buffer = buffer
        collected.buffer.writeBuffer(&buffer)
    }

    consuming func finish(_ trailingHeaders: HTTPFields?) async throws {}
}
