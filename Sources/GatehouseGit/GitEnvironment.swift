import Foundation
import Subprocess

/// The environment Git runs with: nothing inherited but PATH, so client-controlled or server-side variables
/// cannot change what Git does.
enum GitEnvironment {
    static func variables(gitProtocol: String?) -> [String: String] {
        var values = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": "/nonexistent",
            "GIT_CONFIG_NOSYSTEM": "1",
            "GIT_TERMINAL_PROMPT": "0",
        ]
        if let accepted = acceptedProtocol(gitProtocol) { values["GIT_PROTOCOL"] = accepted }
        return values
    }

    static func base(gitProtocol: String? = nil, adding extra: [String: String] = [:]) -> Subprocess.Environment {
        var values: [Subprocess.Environment.Key: String] = [:]
        for (name, value) in variables(gitProtocol: gitProtocol).merging(extra, uniquingKeysWith: { $1 }) {
            values[Subprocess.Environment.Key(stringLiteral: name)] = value
        }
        return .custom(values)
    }

    /// GIT_PROTOCOL as sent by clients (`version=2`, possibly `:`-separated); anything else is dropped.
    static func acceptedProtocol(_ value: String?) -> String? {
        guard let value, value.count <= 64,
            value.allSatisfy({ $0.isLetter || $0.isNumber || "=:._-".contains($0) })
        else { return nil }
        return value
    }
}
