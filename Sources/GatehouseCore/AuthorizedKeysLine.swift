import Foundation
import GatehouseKeys

/// The line `gatehouse authorized-keys` prints for sshd's `AuthorizedKeysCommand`.
public enum AuthorizedKeysLine {
    /// `command="FORCED",restrict TYPE BASE64`.
    ///
    /// The key is written from its parsed blob, never from stored text, so nothing stored can add options or a
    /// second line; `restrict` turns off PTY and port, agent and X11 forwarding. Throws for a command that
    /// would break the line (newlines, NUL).
    public static func line(forcedCommand: String, key: PublicKey) throws(GatehouseError) -> String {
        guard !forcedCommand.contains(where: { $0 == "\n" || $0 == "\r" || $0 == "\0" }) else {
            throw .invalidArgument("The forced command may not contain line breaks or NUL.")
        }
        let quoted = forcedCommand.replacingOccurrences(of: "\"", with: "\\\"")
        return "command=\"\(quoted)\",restrict \(key.openSSH)"
    }

    /// `cert-authority,principals="P1,P2",command="FORCED",restrict TYPE BASE64`: sshd then accepts certificates
    /// the authority signed, within their validity, naming one of the principals — and nothing else.
    public static func certificateAuthorityLine(forcedCommand: String, principals: [String], authority: PublicKey) throws(GatehouseError) -> String {
        // Stored principals were checked when added; checking again keeps a damaged row from adding options.
        let principals = try CertificatePrincipals.validate(principals)
        return "cert-authority,principals=\"\(principals.joined(separator: ","))\"," + (try line(forcedCommand: forcedCommand, key: authority))
    }

    /// `gatehouse shell` on the given data directory and key, quoted for the shell sshd runs forced commands with.
    public static func shellCommand(executable: String, dataDirectory: String, keyID: String) -> String {
        [executable, "shell", "--data", dataDirectory, "--key", keyID].map(shellWord).joined(separator: " ")
    }

    /// Single-quoted for a POSIX shell, unless plainly safe.
    public static func shellWord(_ word: String) -> String {
        let safe = word.allSatisfy { $0.isLetter || $0.isNumber || "/._-+=:@".contains($0) }
        return safe && !word.isEmpty ? word : "'" + word.replacingOccurrences(of: "'", with: "'\\''") + "'"
    }
}
