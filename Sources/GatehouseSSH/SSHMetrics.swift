import GatehouseCore
import Metrics

/// Counters for `/metrics`: connections, authentications by key kind, and Git operations.
enum SSHMetrics {
    static func connectionAccepted() {
        Counter(label: "gatehouse_ssh_connections_total").increment()
    }

    /// A connection closed before authenticating because too many had not authenticated yet: a newcomer refused,
    /// or a waiting one closed to make room for a newcomer from a less busy address.
    static func connectionRefused() {
        Counter(label: "gatehouse_ssh_connections_refused_total").increment()
    }

    /// A running session ended because its key no longer allows it.
    static func sessionRevoked() {
        Counter(label: "gatehouse_ssh_sessions_revoked_total").increment()
    }

    /// `principal` nil for a key Gatehouse does not know.
    static func authentication(_ principal: Principal?) {
        let kind =
            switch principal {
            case .account: "account"
            case .deployKey: "deploy"
            case nil: "unknown"
            }
        Counter(label: "gatehouse_ssh_auth_total", dimensions: [("result", principal == nil ? "rejected" : "accepted"), ("key_kind", kind)]).increment()
    }

    static func gitOperation(_ service: GitService, result: String, bytesSent: Int) {
        Counter(label: "gatehouse_git_operations_total", dimensions: [("service", service.rawValue), ("result", result)]).increment()
        Counter(label: "gatehouse_git_bytes_sent_total", dimensions: [("service", service.rawValue)]).increment(by: bytesSent)
    }

    static func refusal() {
        Counter(label: "gatehouse_ssh_sessions_refused_total").increment()
    }
}
