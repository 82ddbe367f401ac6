import Foundation
import GatehouseKeys
import Testing

@Suite("OpenSSH certificates: the signing authority and principals, as ssh-keygen made them")
struct CertificateTests {
    /// A CA of each type signs a user key of the same type with `ssh-keygen -s`.
    @Test(
        "the signing key is the CA that signed, by ssh-keygen's fingerprint, and the principals are read",
        arguments: GeneratedKeyCase.all)
    func signingAuthority(_ testCase: GeneratedKeyCase) async throws {
        let authority = try Scratch()
        let user = try Scratch()
        defer {
            authority.remove()
            user.remove()
        }
        let caPub = try await SSHKeygen.generate(type: testCase.keygenType, bits: testCase.bits, comment: "ca", in: authority)
        let userPub = try await SSHKeygen.generate(type: testCase.keygenType, bits: testCase.bits, comment: "runner", in: user)
        try await SSHKeygen.run(["-q", "-s", authority.path("key"), "-I", "build-17", "-n", "ci,deploy", "-V", "+1h", userPub])
        let fields = try String(contentsOfFile: user.path("key-cert.pub"), encoding: .utf8).split(separator: " ").map(String.init)

        let certificate = try SSHCertificate(type: fields[0], base64: fields[1])

        #expect(SSHCertificate.types[fields[0]] == testCase.expected)
        #expect(certificate.signingKey.fingerprint == (try await SSHKeygen.list(caPub)).fingerprint)
        #expect(certificate.principals == ["ci", "deploy"])
    }

    @Test("text that is not a whole certificate of the named type is refused")
    func refusals() async throws {
        let authority = try Scratch()
        let user = try Scratch()
        defer {
            authority.remove()
            user.remove()
        }
        _ = try await SSHKeygen.generate(type: "ed25519", bits: nil, comment: "ca", in: authority)
        let userPub = try await SSHKeygen.generate(type: "ed25519", bits: nil, comment: "runner", in: user)
        try await SSHKeygen.run(["-q", "-s", authority.path("key"), "-I", "id", "-n", "ci", userPub])
        let fields = try String(contentsOfFile: user.path("key-cert.pub"), encoding: .utf8).split(separator: " ").map(String.init)
        let plain = try String(contentsOfFile: userPub, encoding: .utf8).split(separator: " ").map(String.init)
        let blob = try #require(Data(base64Encoded: fields[1]))

        let cases: [(String, String, String)] = [
            ("a plain key under a certificate type", fields[0], plain[1]),
            ("a certificate under another certificate type", "ecdsa-sha2-nistp256-cert-v01@openssh.com", fields[1]),
            ("a cut certificate", fields[0], blob.prefix(blob.count - 40).base64EncodedString()),
            ("not base64", fields[0], "%%%"),
            ("a plain key type", "ssh-ed25519", fields[1]),
        ]
        for (name, type, base64) in cases {
            #expect(throws: KeyError.self, "\(name)") { try SSHCertificate(type: type, base64: base64) }
        }
    }
}
