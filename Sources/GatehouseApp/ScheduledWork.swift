import Foundation
import GatehouseCore
import Logging
import ServiceLifecycle

/// Work the server does on its own, on whichever node gets there first: removing a rotated key's old
/// attachments when the overlap ends, and mailing expiry warnings. Each item is taken inside the unit of work that carries it out, so it runs
/// exactly once however many nodes poll.
struct ScheduledWork: Service {
    let keys: KeyService
    let logger: Logger
    var interval: Duration = .seconds(30)

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            // Each job on its own: one that fails does not hold up the other.
            do {
                let finished = try await keys.finishRotations()
                if finished > 0 { logger.info("Removed the old attachments of \(finished) rotated deployment keys whose overlap ended.") }
            } catch {
                logger.error("Finishing rotations failed; it is tried again shortly: \(error)")
            }
            do {
                let warned = try await keys.sendExpiryWarnings()
                if warned > 0 { logger.info("Mailed the administrators about \(warned) deployment keys that expire soon.") }
            } catch {
                logger.error("Sending expiry warnings failed; it is tried again shortly: \(error)")
            }
            // A stop (SIGTERM) ends the wait at once rather than after the interval.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
