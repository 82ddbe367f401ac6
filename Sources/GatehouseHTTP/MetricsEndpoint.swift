import Hummingbird
import Logging
import NIOCore
import ServiceLifecycle

/// `/metrics`, the Prometheus text exposition for the operator's scraper. With `metrics.token` it answers only a
/// request that sends `Authorization: Bearer TOKEN`; with `metrics.listen` it is served on an address of its own
/// (a private interface, say) and not on the API's.
public struct MetricsEndpoint: Sendable {
    let exposition: @Sendable () -> [UInt8]
    let token: String?

    public init(exposition: @escaping @Sendable () -> [UInt8], token: String?) {
        self.exposition = exposition
        self.token = token
    }

    func response(to request: Request) -> Response {
        if let token {
            let sent = request.headers[.authorization] ?? ""
            guard WebSessionMiddleware.constantTimeEqual(sent, "Bearer \(token)") else {
                return Response(
                    status: .unauthorized, headers: [.wwwAuthenticate: #"Bearer realm="metrics""#, .contentType: "text/plain; charset=utf-8"],
                    body: .init(byteBuffer: ByteBuffer(string: "Send the metrics token (metrics.token) as Authorization: Bearer TOKEN.\n")))
            }
        }
        return Response(
            status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"], body: .init(byteBuffer: ByteBuffer(bytes: exposition())))
    }

    /// A server of `/metrics` alone, for `metrics.listen`; `onListening` receives the bound port.
    public func application(host: String, port: Int, logger: Logger, onListening: @escaping @Sendable (Int) async -> Void) -> some Service {
        let router = Router()
        router.get("/metrics") { request, _ in response(to: request) }
        return Application(
            router: router, configuration: .init(address: .hostname(host, port: port), serverName: "Gatehouse"),
            onServerRunning: { channel in await onListening(channel.localAddress?.port ?? port) }, logger: logger)
    }
}
