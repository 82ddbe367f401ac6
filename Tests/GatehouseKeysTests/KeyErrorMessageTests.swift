import Foundation
import GatehouseKeys
import Testing

@Suite("KeyError messages")
struct KeyErrorMessageTests {
    static let everyCase: [KeyError] = [
        .empty, .tooLong(limit: 16 * 1024), .privateKey, .rfc4716Format, .severalKeys, .options, .dsaUnsupported,
        .certificateUnsupported("ssh-ed25519-cert-v01@openssh.com"), .unknownType("foo-key"), .missingKeyData,
        .badBase64, .typeMismatch(declared: "ssh-rsa", inBlob: "ssh-ed25519"), .truncated, .trailingData,
        .invalidPoint, .rsaTooShort(bits: 1024, minimum: 2048),
    ]

    /// Stops compiling when KeyError gains a case, so `everyCase` stays complete.
    private static func listed(_ error: KeyError) -> Bool {
        switch error {
        case .empty, .tooLong, .privateKey, .rfc4716Format, .severalKeys, .options, .dsaUnsupported,
            .certificateUnsupported, .unknownType, .missingKeyData, .badBase64, .typeMismatch, .truncated,
            .trailingData, .invalidPoint, .rsaTooShort:
            true
        }
    }

    @Test("every KeyError has a message", arguments: KeyErrorMessageTests.everyCase)
    func hasMessage(_ error: KeyError) {
        #expect(Self.listed(error))
        #expect(!error.description.trimmingCharacters(in: .whitespaces).isEmpty)
    }

    @Test("the messages are all different")
    func messagesAreDistinct() {
        #expect(Set(Self.everyCase.map(\.description)).count == Self.everyCase.count)
    }

    @Test("the private-key message says to paste the .pub file")
    func privateKeyMessagePointsAtPubFile() {
        #expect(KeyError.privateKey.description.contains("paste the contents of the .pub file"))
    }
}
