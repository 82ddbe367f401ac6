import Foundation
import GatehouseCore
import Testing

/// Two ways of asking that must cost the same: something the caller may not see, and something that does not
/// exist. Timed interleaved on one machine, compared by medians (issue 12, finding 4).
struct TimedPair: Sendable, CustomTestStringConvertible {
    var behaviour: String
    /// Asks for the hidden thing (true) or the missing one (false); returns the refusal, which must say "not found".
    var ask: @Sendable (Acme, Bool) async -> String

    var testDescription: String { behaviour }

    static let all: [TimedPair] = [
        TimedPair(behaviour: "a private repository and a missing one, through the API's service") { acme, hidden in
            await refusal { _ = try await acme.directory.repository(actor: .user(acme.sam), hidden ? "acme/tools" : "acme/toolz") }
        },
        TimedPair(behaviour: "a private repository and a missing one, over SSH with an account key") { acme, hidden in
            let outcome = await AccessService(store: acme.store).outcome(
                of: "git-upload-pack '\(hidden ? "acme/tools" : "acme/toolz").git'", principal: .account(acme.sam, key: nil), sourceIP: nil)
            guard case .message(let message, exitStatus: 1) = outcome else { return "allowed" }
            return message.contains("not found") ? "not found" : message
        },
        TimedPair(behaviour: "a workspace without a repository the caller can read and a missing one") { acme, hidden in
            await refusal { _ = try await acme.directory.visibleRepositories(actor: .user(acme.sam), workspace: hidden ? "vault" : "vaulz") }
        },
    ]

    /// "not found" when `body` is refused so; what happened otherwise.
    static func refusal(_ body: () async throws -> Void) async -> String {
        do {
            try await body()
            return "allowed"
        } catch {
            return GatehouseError(error).category == .notFound ? "not found" : "\(error)"
        }
    }
}

@Suite("Timing does not tell what exists")
struct TimingTests {
    static let rounds = 400
    static let warmUp = 50

    @Test("what the caller may not see costs what is missing: medians within 10 % or 100 µs", arguments: TimedPair.all)
    func hiddenCostsWhatMissingCosts(_ pair: TimedPair) async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            _ = try await acme.directory.addWorkspace(slug: "vault", owner: "olivia", seatLimit: 2)
            _ = try await acme.directory.createRepository("vault/secrets", isPrivate: true)
            var hidden: [Duration] = []
            var missing: [Duration] = []
            let clock = ContinuousClock()
            for round in 0..<(Self.warmUp + Self.rounds) {
                // Interleaved, and in alternating order, so that a busy moment of the machine falls on both.
                for askHidden in round.isMultiple(of: 2) ? [true, false] : [false, true] {
                    var answer = ""
                    let elapsed = await clock.measure { answer = await pair.ask(acme, askHidden) }
                    #expect(answer == "not found", "asked for the \(askHidden ? "hidden" : "missing") one: \(answer)")
                    if round >= Self.warmUp {
                        if askHidden { hidden.append(elapsed) } else { missing.append(elapsed) }
                    }
                }
            }
            let hiddenMedian = Self.median(hidden)
            let missingMedian = Self.median(missing)
            let allowed = max(min(hiddenMedian, missingMedian) / 10, .microseconds(100))
            let difference = hiddenMedian > missingMedian ? hiddenMedian - missingMedian : missingMedian - hiddenMedian
            #expect(difference <= allowed, "median hidden \(hiddenMedian), missing \(missingMedian), allowed difference \(allowed)")
        }
    }

    static func median(_ values: [Duration]) -> Duration {
        values.sorted()[values.count / 2]
    }
}
