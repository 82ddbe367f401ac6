import Synchronization
import Testing

@testable import GatehouseSSH

@Suite("Connections not yet authenticated: who they count against, and who makes room")
struct UnauthenticatedConnectionsTests {
    @Test(
        "an IPv4 address counts alone, an IPv6 address with its /64",
        arguments: [
            ("192.0.2.7", "192.0.2.7", true), ("192.0.2.7", "192.0.2.8", false), ("2001:db8::1", "2001:db8::ffff:2", true),
            ("2001:db8::1", "2001:db8:0:1::1", false), ("::ffff:192.0.2.7", "192.0.2.7", true),
        ])
    func source(_ first: String, _ second: String, same: Bool) {
        #expect((UnauthenticatedConnections.source(first) == UnauthenticatedConnections.source(second)) == same)
    }

    @Test("at the total, the busiest source's oldest makes room for a newcomer from elsewhere; the busiest itself is refused")
    func eviction() {
        var limits = SSHLimits()
        limits.maxUnauthenticated = 6
        limits.maxUnauthenticatedPerAddress = 6
        let connections = UnauthenticatedConnections(limits: limits)
        let evicted = Mutex<[String]>([])
        func admit(_ address: String, _ name: String) -> UnauthenticatedConnections.Admission? {
            connections.admit(address) { evicted.withLock { $0.append(name) } }
        }
        let flood = (0..<5).map { admit("2001:db8::\($0 + 1)", "flood \($0)") }
        let other = admit("192.0.2.9", "other")
        #expect(flood.allSatisfy { $0 != nil } && other != nil && connections.total == 6)

        #expect(admit("2001:db8::99", "flood 5") == nil, "the busiest /64 gets no more")
        #expect(evicted.withLock { $0 }.isEmpty)
        let newcomer = admit("198.51.100.1", "newcomer")
        #expect(newcomer != nil && evicted.withLock { $0 } == ["flood 0"] && connections.total == 6)

        flood[0]?.release()  // the evicted one's close gives back nothing more
        #expect(connections.total == 6)
        newcomer?.release()
        #expect(connections.total == 5)
    }
}
