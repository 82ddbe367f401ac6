import Metrics
import Prometheus

/// The process's metrics registry, bootstrapped once: swift-metrics calls anywhere land here, and
/// `/metrics` prints it in Prometheus' text format.
public enum GatehouseMetrics {
    public static let registry: PrometheusCollectorRegistry = {
        let registry = PrometheusCollectorRegistry()
        MetricsSystem.bootstrap(PrometheusMetricsFactory(registry: registry))
        return registry
    }()

    @Sendable public static func exposition() -> [UInt8] {
        registry.emitToBuffer()
    }
}
