import Hummingbird
import Metrics

/// One log line and one counter per API request: route (the pattern, not the concrete path), method,
/// final status, duration, caller and source address.
struct RequestLogMiddleware: RouterMiddleware {
    typealias Context = RequestOrigin

    func handle(_ request: Request, context: RequestOrigin, next: (Request, RequestOrigin) async throws -> Response) async throws -> Response {
        let started = ContinuousClock.now
        let response = try await next(request, context)
        let route = context.endpointPath ?? "unmatched"
        Counter(
            label: "gatehouse_api_requests_total",
            dimensions: [
                ("route", route), ("method", request.method.rawValue), ("status", String(response.status.code)),
            ]
        ).increment()
        let elapsed = (ContinuousClock.now - started).components
        context.logger.info(
            "api request",
            metadata: [
                "method": "\(request.method.rawValue)", "path": "\(request.uri.path)", "route": "\(route)",
                "status": "\(response.status.code)", "actor": "\(context.requestLog.withLockedValue { $0 })",
                "duration_ms": "\(elapsed.seconds * 1000 + elapsed.attoseconds / 1_000_000_000_000_000)",
                "source_ip": "\(context.sourceIP ?? "-")",
            ])
        return response
    }
}
