import GatehouseCore
import GatehouseGit
import Logging
import NIOCore
import NIOSSH

/// Serves one session channel once the client said what to run: a Git command, or the `ssh -T` greeting.
struct SessionServer: Sendable {
    let access: AccessService
    let git: GitProcess
    let running: RunningSessions
    let slots: GitProcessSlots
    let sshUser: String
    let logger: Logger

    func serve(_ channel: NIOAsyncChannel<SSHChannelData, SSHChannelData>, state: SessionState, identity: ConnectionIdentity) async {
        let raw = channel.channel
        do {
            try await channel.executeThenClose { inbound, _ in
                let start = try await state.start.futureResult.get()
                let input = inbound.compactMap { @Sendable data -> [UInt8]? in
                    guard case .channel = data.type, case .byteBuffer(let buffer) = data.data else { return nil }
                    return Array(buffer.readableBytesView)
                }
                let status = await respond(to: start, identity: identity, gitProtocol: state.gitProtocol, input: input, channel: raw)
                // Every write has completed by now: closing earlier would drop data still waiting for window space.
                try await raw.triggerUserOutboundEvent(SSHChannelRequestEvent.ExitStatus(exitStatus: Int(status))).get()
                if !state.peerClosedInput { try? await raw.close(mode: .output).get() }
                throw SessionFinished()
            }
        } catch is SessionFinished {
            // The usual end.
        } catch ChannelError.eof {
            // The client opened a session and left without asking for anything.
        } catch {
            logger.debug("session ended with an error", metadata: ["error": "\(error)"])
        }
    }

    private func respond<Input: AsyncSequence & Sendable>(
        to start: SessionStart, identity: ConnectionIdentity, gitProtocol: String?, input: Input, channel: any Channel
    ) async -> Int32 where Input.Element == [UInt8] {
        let stdout = ChannelWriter(channel: channel, type: .channel)
        let stderr = ChannelWriter(channel: channel, type: .stdErr)
        func say(_ text: String, exitStatus: Int32) async -> Int32 {
            try? await stderr.write(Array(text.utf8))
            try? await stderr.drain()
            return exitStatus
        }
        func refuse(_ outcome: SessionOutcome) async -> Int32 {
            guard case .message(let text, let exitStatus) = outcome else { return 1 }
            return await say(text, exitStatus: exitStatus)
        }
        guard let authenticated = identity.current else { return await refuse(.refusal("Not authenticated.")) }
        guard authenticated.username == sshUser else {
            return await refuse(
                .refusal(
                    "Connect as the user '\(sshUser)' (\(sshUser)@HOST), not '\(authenticated.username)'. Your key identifies you; the user name is always '\(sshUser)'."
                ))
        }
        let key = KeyLocator.fingerprint(authenticated.fingerprint)
        // Read before deciding: a change committed while the decision is made is decided again.
        let decidedAt = running.version()
        let principal: Principal
        do {
            // The key may have been removed or changed since the connection authenticated.
            guard let current = try await access.principal(key) else { return await refuse(.keyRemoved) }
            principal = current
        } catch {
            return await refuse(.refusal("The server could not check access; try again."))
        }
        let command: String? = if case .exec(let text) = start { text } else { nil }
        switch await access.outcome(of: command, principal: principal, sourceIP: identity.sourceIP) {
        case .message(let text, let exitStatus):
            if exitStatus != 0 {
                SSHMetrics.refusal()
                logger.info("session refused", metadata: ["principal": "\(principal.auditName)", "command": "\(command ?? "(shell)")"])
            }
            return await say(text, exitStatus: exitStatus)
        case .git(let authorized):
            let started = ContinuousClock.now
            if let warning = authorized.warning { try? await stderr.write(Array(warning.utf8)) }
            do {
                let status = try await slots.withSlot(for: key) {
                    try await running.run(key: key, command: authorized, decidedAt: decidedAt) {
                        try await git.run(
                            authorized, gitProtocol: gitProtocol, sourceIP: identity.sourceIP, input: input,
                            output: stdout.write, errorOutput: stderr.write)
                    }
                }
                try await stdout.drain()
                try await stderr.drain()
                SSHMetrics.gitOperation(authorized.service, result: status == 0 ? "ok" : "error", bytesSent: stdout.bytesWritten)
                // One line per Git operation, for operators and log pipelines.
                logger.info(
                    "git operation",
                    metadata: [
                        "principal": "\(principal.auditName)", "repository": "\(authorized.repository.fullName)",
                        "service": "\(authorized.service.rawValue)", "bytes_sent": "\(stdout.bytesWritten)",
                        "duration_ms": "\((ContinuousClock.now - started).milliseconds)", "result": "\(status == 0 ? "ok" : "exit \(status)")",
                        "source_ip": "\(identity.sourceIP ?? "-")",
                    ])
                return status
            } catch let refusal as GitProcessSlots.Refusal {
                SSHMetrics.refusal()
                logger.warning("git process limit reached", metadata: ["principal": "\(principal.auditName)", "refusal": "\(refusal)"])
                return await refuse(.refusal(refusal.description))
            } catch let ended as SessionEnded {
                SSHMetrics.sessionRevoked()
                logger.notice(
                    "running session ended: access withdrawn",
                    metadata: ["principal": "\(principal.auditName)", "repository": "\(authorized.repository.fullName)"])
                return await say(ended.reason, exitStatus: 1)
            } catch let stalled as GitStalled {
                logger.warning("git stalled and was stopped", metadata: ["repository": "\(authorized.repository.fullName)"])
                return await refuse(.refusal(stalled.description))
            } catch {
                SSHMetrics.gitOperation(authorized.service, result: "failed", bytesSent: stdout.bytesWritten)
                logger.error("git command failed", metadata: ["error": "\(error)", "repository": "\(authorized.repository.fullName)"])
                return await refuse(.gitFailed(authorized.repository))
            }
        }
    }
}

/// Thrown at the end of every session so that `executeThenClose` closes the channel on its error path.
/// On the success path it asserts (in debug builds) that the channel's `closeFuture` succeeded, but NIOSSH fails
/// it when the client vanishes or its EOF crosses ours ("Sent EOF out of sequence"), which is no fault here.
private struct SessionFinished: Error {}

extension Duration {
    /// Whole milliseconds, for logs.
    var milliseconds: Int64 { components.seconds * 1000 + components.attoseconds / 1_000_000_000_000_000 }
}
