import Foundation
import GatehouseKeys
import Testing

/// A text that must be refused, and exactly why.
struct RefusedKey: Sendable, CustomTestStringConvertible {
    var behaviour: String
    var text: String
    var expected: KeyError

    var testDescription: String { behaviour }

    static var all: [RefusedKey] {
        let blob = Fixture.ed25519
        let line = Fixture.ed25519Line
        let base64 = Data(blob).base64EncodedString()
        return [
            .init(behaviour: "empty text", text: "", expected: .empty),
            .init(behaviour: "whitespace only", text: "  \t\r\n  \n", expected: .empty),
            .init(
                behaviour: "longer than 16 KiB", text: String(repeating: "A", count: 16 * 1024 + 1),
                expected: .tooLong(limit: 16 * 1024)),
            .init(
                behaviour: "valid key with a huge comment", text: line + " " + String(repeating: "c", count: 16 * 1024),
                expected: .tooLong(limit: 16 * 1024)),
            .init(
                behaviour: "OpenSSH private key",
                text: "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQ==\n-----END OPENSSH PRIVATE KEY-----\n",
                expected: .privateKey),
            .init(
                behaviour: "PEM RSA private key",
                text: "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----",
                expected: .privateKey),
            .init(
                behaviour: "PuTTY private key",
                text: "PuTTY-User-Key-File-3: ssh-ed25519\nEncryption: none\nComment: me\nPublic-Lines: 2\n",
                expected: .privateKey),
            .init(
                behaviour: "RFC 4716 SSH2 public key",
                text: "---- BEGIN SSH2 PUBLIC KEY ----\nComment: \"me\"\n\(base64)\n---- END SSH2 PUBLIC KEY ----",
                expected: .rfc4716Format),
            .init(
                behaviour: "two key lines", text: line + "\n" + Wire.line("ssh-ed25519", Fixture.ed25519Blob()),
                expected: .severalKeys),
            .init(behaviour: "no-pty option before the key", text: "no-pty " + line, expected: .options),
            .init(behaviour: "command= option before the key", text: "command=\"x\" " + line, expected: .options),
            .init(behaviour: "DSA key", text: "ssh-dss AAAAB3NzaC1kc3MAAACBAP me@old", expected: .dsaUnsupported),
            .init(
                behaviour: "OpenSSH certificate", text: "ssh-ed25519-cert-v01@openssh.com AAAA",
                expected: .certificateUnsupported("ssh-ed25519-cert-v01@openssh.com")),
            .init(behaviour: "unknown key type", text: "foo-key AAAA", expected: .unknownType("foo-key")),
            .init(behaviour: "type without key data", text: "ssh-ed25519", expected: .missingKeyData),
            .init(behaviour: "type then only whitespace", text: "ssh-ed25519   \r\n", expected: .missingKeyData),
            .init(behaviour: "key data not base64", text: "ssh-ed25519 AAAA!!!!", expected: .badBase64),
            .init(behaviour: "NUL inside the line", text: "ssh-ed25519 \(base64)\u{0}", expected: .badBase64),
            .init(
                behaviour: "declared ssh-rsa but the blob is ed25519", text: Wire.line("ssh-rsa", blob),
                expected: .typeMismatch(declared: "ssh-rsa", inBlob: "ssh-ed25519")),
            .init(
                behaviour: "declared nistp384 but the blob is nistp256",
                text: Wire.line(
                    "ecdsa-sha2-nistp384",
                    Wire.text("ecdsa-sha2-nistp256") + Wire.text("nistp256") + Wire.string(Fixture.p256Point())),
                expected: .typeMismatch(declared: "ecdsa-sha2-nistp384", inBlob: "ecdsa-sha2-nistp256")),
            .init(behaviour: "blob cut short", text: Wire.line("ssh-ed25519", Array(blob.prefix(40))), expected: .truncated),
            .init(
                behaviour: "blob holding only the type", text: Wire.line("ssh-ed25519", Array(blob.prefix(15))),
                expected: .truncated),
            .init(
                behaviour: "extra bytes after the key", text: Wire.line("ssh-ed25519", blob + [0xDE, 0xAD]),
                expected: .trailingData),
            .init(
                behaviour: "RSA 1024-bit key", text: Wire.line("ssh-rsa", Fixture.rsaBlob(bits: 1024)),
                expected: .rsaTooShort(bits: 1024, minimum: 2048)),
            .init(
                behaviour: "ECDSA point not on the curve",
                text: Wire.line(
                    "ecdsa-sha2-nistp256",
                    Wire.text("ecdsa-sha2-nistp256") + Wire.text("nistp256")
                        + Wire.string([0x04] + Array(repeating: 0x01, count: 64))),
                expected: .invalidPoint),
            .init(
                behaviour: "ECDSA point of the wrong length",
                text: Wire.line(
                    "ecdsa-sha2-nistp256",
                    Wire.text("ecdsa-sha2-nistp256") + Wire.text("nistp256")
                        + Wire.string(Array(Fixture.p256Point().prefix(33)))),
                expected: .invalidPoint),
        ]
    }
}

@Suite("Refused key texts")
struct RefusedKeyTests {
    @Test("each refused text throws exactly its KeyError", arguments: RefusedKey.all)
    func refused(_ testCase: RefusedKey) {
        #expect(throws: testCase.expected) {
            _ = try PublicKey(parsing: testCase.text)
        }
    }

    @Test("an RSA 1024-bit key from ssh-keygen is too short")
    func generatedRSA1024IsTooShort() async throws {
        let scratch = try Scratch()
        defer { scratch.remove() }
        let pubPath = try await SSHKeygen.generate(type: "rsa", bits: 1024, comment: "legacy@host", in: scratch)
        let text = try String(contentsOfFile: pubPath, encoding: .utf8)
        #expect(throws: KeyError.rsaTooShort(bits: 1024, minimum: 2048)) {
            _ = try PublicKey(parsing: text)
        }
    }

    @Test("the built 2048-bit RSA blob is accepted, so the 1024 refusal is about size")
    func builtRSA2048IsAccepted() throws {
        let key = try PublicKey(parsing: Wire.line("ssh-rsa", Fixture.rsaBlob(bits: 2048)))
        #expect(key.type == .rsa)
        #expect(key.bits == 2048)
    }
}
