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
    /// A leak shows in every measurement; a busy moment of a shared machine does not. A pair passes when one of
    /// these measurements does.
    static let attempts = 3

    @Test("what the caller may not see costs what is missing: paired medians within 10 % or 100 µs", arguments: TimedPair.all)
    func hiddenCostsWhatMissingCosts(_ pair: TimedPair) async throws {
        try await withStore { store in
            let acme = try await Acme(store: store)
            _ = try await acme.directory.addWorkspace(slug: "vault", owner: "olivia", seatLimit: 2)
            _ = try await acme.directory.createRepository("vault/secrets", isPrivate: true)
            var verdicts: [String] = []
            for _ in 0..<Self.attempts {
                let (difference, missing) = try await Self.measure(pair, acme)
                let allowed = max(missing / 10, .microseconds(100))
                verdicts.append("hidden − missing \(difference) (median missing \(missing), allowed ±\(allowed))")
                if difference <= allowed && difference >= .zero - allowed { return }
            }
            Issue.record("the hidden one costs more or less than the missing one in every measurement: \(verdicts)")
        }
    }

    /// The median of the differences between a request for the hidden thing and one for the missing thing made
    /// right after it (in alternating order), so that a slow phase of the machine falls on both halves of a pair;
    /// and the median time of the missing one.
    static func measure(_ pair: TimedPair, _ acme: Acme) async throws -> (difference: Duration, missing: Duration) {
        var differences: [Duration] = []
        var missing: [Duration] = []
        let clock = ContinuousClock()
        for round in 0..<(Self.warmUp + Self.rounds) {
            var times: [Bool: Duration] = [:]
            for askHidden in round.isMultiple(of: 2) ? [true, false] : [false, true] {
                var answer = ""
                times[askHidden] = await clock.measure { answer = await pair.ask(acme, askHidden) }
                #expect(answer == "not found", "asked for the \(askHidden ? "hidden" : "missing") one: \(answer)")
            }
            if round >= Self.warmUp, let hidden = times[true], let missingTime = times[false] {
                differences.append(hidden - missingTime)
                missing.append(missingTime)
            }
        }
        return (median(differences), median(missing))
    }

    static func median(_ values: [Duration]) -> Duration {
        values.sorted()[values.count / 2]
    }
}
