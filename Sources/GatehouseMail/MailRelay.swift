import Foundation
import GatehouseCore
import Logging
import Metrics
import ServiceLifecycle

/// Delivers the outbox: claims due messages, sends each, and records the outcome. Failed attempts are
/// retried with exponential backoff; permanent refusals and messages that failed `maximumAttempts` times
/// are marked failed (see `gatehouse mail list`). Without SMTP settings messages stay queued and are logged.
public struct MailRelay: Service {
    public struct Policy: Sendable {
        public var pollInterval: Duration = .seconds(5)
        public var firstRetryDelay: TimeInterval = 30
        public var maximumRetryDelay: TimeInterval = 3600
        public var maximumAttempts = 8
        /// How long a claimed message is hidden from other senders while this one tries it.
        public var lease: TimeInterval = 300
        /// How long sent and failed messages stay listed (`gatehouse mail list`) before they are deleted.
        public var retention: TimeInterval = 30 * 86_400
        /// How often old messages are looked for.
        public var pruneInterval: Duration = .seconds(3600)

        public init() {}

        /// The wait before the next attempt after `attempts` failures, or nil when it is time to give up.
        public func retryDelay(afterAttempts attempts: Int) -> TimeInterval? {
            guard attempts < maximumAttempts else { return nil }
            return min(maximumRetryDelay, firstRetryDelay * pow(2, Double(attempts - 1)))
        }
    }

    let outbox: OutboxService
    let smtp: SMTPConfiguration?
    let policy: Policy
    let logger: Logger

    public init(outbox: OutboxService, smtp: SMTPConfiguration?, policy: Policy = Policy(), logger: Logger) {
        self.outbox = outbox
        self.smtp = smtp
        self.policy = policy
        self.logger = logger
    }

    /// Publishes how many messages wait, for `/metrics`, and returns it.
    @discardableResult
    func reportDepth() async throws -> Int {
        let waiting = try await outbox.count(status: .pending)
        Gauge(label: "gatehouse_mail_outbox_pending").record(waiting)
        return waiting
    }

    public func run() async throws {
        guard let smtp else {
            let waiting = try await reportDepth()
            logger.notice("SMTP is not configured: notices stay in the outbox (\(waiting) waiting); see `gatehouse mail list`.")
            try? await gracefulShutdown()
            return
        }
        let client = SMTPClient(configuration: smtp)
        var nextPrune = ContinuousClock.now
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            if ContinuousClock.now >= nextPrune {
                // Pruning is housekeeping: when it fails, delivery goes on and it is tried again later.
                nextPrune = ContinuousClock.now + policy.pruneInterval
                do { try await pruneOld() } catch { logger.error("Old mail could not be pruned from the outbox: \(error)") }
            }
            do {
                try await deliverDue(with: client)
                try await reportDepth()
            } catch {
                logger.error("The mail outbox could not be read: \(error)")
            }
            try? await cancelWhenGracefulShutdown { [policy] in try await Task.sleep(for: policy.pollInterval) }
        }
    }

    /// Deletes what was sent or failed longer than `retention` ago, so that the outbox does not grow forever.
    public func pruneOld() async throws {
        let pruned = try await outbox.prune(olderThan: policy.retention)
        if pruned > 0 { logger.info("Deleted \(pruned) sent or failed messages older than \(Int(policy.retention / 86_400)) days from the outbox.") }
    }

    /// One pass over the due messages (`run` repeats it every `pollInterval`).
    public func deliverDue(with client: SMTPClient) async throws {
        let claimed = try await outbox.claimDue(limit: 20, lease: policy.lease)
        for (index, queued) in claimed.enumerated() {
            do {
                try Task.checkCancellation()
                try await client.send(queued.mail)
                try await outbox.markSent(queued.id)
                Counter(label: "gatehouse_mail_sent_total").increment()
                logger.info("Sent mail \(queued.id) to \(queued.mail.to): \(queued.mail.subject)")
            } catch  where Task.isCancelled {
                // Stopping is no fault of the SMTP server: the unsent rest goes back uncounted instead of
                // waiting out its lease. (One interrupted after the server's 250 may go out twice; none is lost.)
                try? await outbox.release(claimed[index...])
                return
            } catch {
                let permanent = (error as? SMTPError)?.isPermanent ?? false
                let delay = permanent ? nil : policy.retryDelay(afterAttempts: queued.attempts + 1)
                Counter(label: "gatehouse_mail_failures_total", dimensions: [("kind", delay == nil ? "final" : "retrying")]).increment()
                try await outbox.markAttemptFailed(queued.id, error: String(describing: error), retryDelay: delay)
                logger.warning(
                    "Mail \(queued.id) to \(queued.mail.to) failed (attempt \(queued.attempts + 1)): \(error). \(delay.map { "Retrying in \(Int($0)) s." } ?? "Giving up.")"
                )
            }
        }
    }
}
