/// How `~/.ssh/known_hosts` names a server: `host` on port 22, `[host]:port` otherwise.
public enum KnownHosts {
    public static func hostPattern(host: String, port: Int) -> String {
        port == 22 ? host : "[\(host)]:\(port)"
    }

    /// A `known_hosts` line for a host key given as `TYPE BASE64`.
    public static func line(host: String, port: Int, key: String) -> String {
        "\(hostPattern(host: host, port: port)) \(key)"
    }
}
