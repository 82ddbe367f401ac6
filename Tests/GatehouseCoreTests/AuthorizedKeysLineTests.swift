import GatehouseCore
import GatehouseKeys
import Testing

/// Public keys as ssh-keygen writes them (inputs only; every expectation is derived from the parsed key).
private let fixtures = [
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBRefx6wJXso0ekuCx69k82VydoJcrxnOL83AUMKVeuq fixture",
    "ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBGh3ZjTkaV9qIypSW/HqHvRspWWzSakDN4IpZZiI1X6qqmYu1D42u1QE+/Nkec3R/Ezs8KRVzAMEBTR9/ZFdhaw= fixture",
    "ecdsa-sha2-nistp384 AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBOBE1zjs6oNIH4l7aeJDgV15ygR9Y+lc1MS9bEZcPiI5aJwqdpypbyePEws8X+5r9+pe5SB9MeyCrV55JivbcG0s8QKgTrgSpR4blRGtTIO72G7DHdN31Ci/lBSBNoG8+A== fixture",
    "ecdsa-sha2-nistp521 AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAHcUncQudxPL5lyaSiG8mUU6ZowzypxWW1Ccp4ad6YAfgaC3XpCzHcp3Chso3B8qmJNgCXnuMHLhmp5KHpdOaEgswChiWE2RGnOrHLLmLsCsvJzgl4V15n6I474UsHv4S376qFwxFdd9+4fZVPLZT45FrdSnd44VmqmoCeigt40wlBaoQ== fixture",
    "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQCwXGq8gfkMcDtdzI91gxca6AE8RR+kaigIBS/mzaXGyKiUrTLNwohhwgYMpaQolZuh4dSQdStcDIjS5MAUFCPRtKH/BUZOslnDFKOVzcNphV7azQtgz/fk2xvtY3joIdewbBLDw/whmT0J7Jyoa5eLQHf30DIG9f3OUGsC03KqGgn6zKm7j9+nkMagJmwSC8kqXpPEYBIORsvJm9W8g2XlHLmsJNgKQppFH3ofhFKU00CbonWGIOaCjSCE1tFe8PMfVkzvzs6bs5oyqUKqqGvaOQTvWexu6RGCh89wlCzdM9CFwGrwbzDnoG9uR74Z/UeI8cFgCqw1jVxiu2Vb2iUH fixture",
    "sk-ssh-ed25519@openssh.com AAAAGnNrLXNzaC1lZDI1NTE5QG9wZW5zc2guY29tAAAAIAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gAAAABHNzaDo= fixture",
]

@Suite("The line authorized-keys prints for sshd")
struct AuthorizedKeysLineTests {
    @Test("one line: the quoted forced command, restrict, then the key without its comment", arguments: fixtures)
    func format(text: String) throws {
        let key = try PublicKey(parsing: text)
        let command = AuthorizedKeysLine.shellCommand(
            executable: "/usr/local/bin/gatehouse", dataDirectory: "/srv/gatehouse",
            keyID: "F038BFF1-8092-4826-AA4D-2F095496437A")
        let line = try AuthorizedKeysLine.line(forcedCommand: command, key: key)
        #expect(line == "command=\"/usr/local/bin/gatehouse shell --data /srv/gatehouse --key F038BFF1-8092-4826-AA4D-2F095496437A\",restrict \(key.openSSH)")
        #expect(!line.contains("\n") && !line.contains("fixture"))
        let fields = line.split(separator: " ")
        #expect(fields.suffix(2).joined(separator: " ") == text.split(separator: " ").prefix(2).joined(separator: " "))
    }

    @Test("a certificate authority's line: cert-authority with its principals, then the same forced command and key")
    func certificateAuthority() throws {
        let key = try PublicKey(parsing: fixtures[0])
        let line = try AuthorizedKeysLine.certificateAuthorityLine(
            forcedCommand: "/bin/gatehouse shell --key K", principals: ["ci", "deploy@build"],
            authority: key)
        #expect(line == "cert-authority,principals=\"ci,deploy@build\",command=\"/bin/gatehouse shell --key K\",restrict \(key.openSSH)")
    }

    @Test(
        "principals that could add options or widen the match are refused, even when stored",
        arguments: [["ci\",command=\"sh"], ["a,b"], ["ci deploy"], ["*"], [], ["ci\nssh-rsa"]])
    func badPrincipals(_ principals: [String]) throws {
        let key = try PublicKey(parsing: fixtures[0])
        #expect(throws: GatehouseError.self) {
            try AuthorizedKeysLine.certificateAuthorityLine(forcedCommand: "/bin/gatehouse shell --key K", principals: principals, authority: key)
        }
    }

    @Test(
        "stored or offered text with options or a second line never reaches the output",
        arguments: [
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBRefx6wJXso0ekuCx69k82VydoJcrxnOL83AUMKVeuq x\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBRefx6wJXso0ekuCx69k82VydoJcrxnOL83AUMKVeuq",
            "command=\"sh\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBRefx6wJXso0ekuCx69k82VydoJcrxnOL83AUMKVeuq",
            "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBRefx6wJXso0ekuCx69k82VydoJcrxnOL83AUMKVeuq\ncommand=\"sh\" ssh-rsa AAAA",
        ])
    func injectionRefused(text: String) {
        #expect(throws: KeyError.self) { try PublicKey(parsing: text) }
    }

    @Test("a comment with quotes or option syntax is dropped, not echoed")
    func commentDropped() throws {
        let key = try PublicKey(parsing: fixtures[0].replacingOccurrences(of: "fixture", with: "\",command=\"sh"))
        let line = try AuthorizedKeysLine.line(forcedCommand: "gatehouse shell", key: key)
        #expect(line == "command=\"gatehouse shell\",restrict \(key.openSSH)")
    }

    @Test(
        "forced commands are quoted for sshd and for the shell",
        arguments: [
            ("/opt/gate house/gatehouse", "/srv/data", "'/opt/gate house/gatehouse' shell --data /srv/data --key K"),
            ("/opt/gatehouse", "/srv/it's", "/opt/gatehouse shell --data '/srv/it'\\''s' --key K"),
        ])
    func quoting(executable: String, data: String, expected: String) throws {
        #expect(AuthorizedKeysLine.shellCommand(executable: executable, dataDirectory: data, keyID: "K") == expected)
        let key = try PublicKey(parsing: fixtures[0])
        let line = try AuthorizedKeysLine.line(forcedCommand: "say \"hi\"", key: key)
        #expect(line.hasPrefix("command=\"say \\\"hi\\\"\",restrict "))
    }

    @Test("a forced command with a line break is refused")
    func lineBreakRefused() throws {
        let key = try PublicKey(parsing: fixtures[0])
        #expect(throws: GatehouseError.self) { try AuthorizedKeysLine.line(forcedCommand: "gatehouse\nssh-rsa AAAA", key: key) }
    }
}
