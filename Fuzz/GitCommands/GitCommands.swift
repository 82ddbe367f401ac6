import FuzzSupport
import GatehouseCore

/// The exec command and repository path parser: a command is refused, or names one service and a path that holds
/// nothing a shell or git could take for syntax or an option.
func check(_ bytes: [UInt8]) {
    let command = text(bytes)
    guard let parsed = try? GitCommand(parsing: command) else { return }
    let shellSyntax = Set(";|&$`\\\"<>(){}*?!~'\n\r\t\0")
    guard !parsed.requestedPath.contains(where: shellSyntax.contains), !parsed.requestedPath.isEmpty else {
        fatalError("\(command) gave the path \(parsed.requestedPath)")
    }
    if let path = parsed.path {
        guard Names.isValidSlug(path.workspace), Names.isValidSlug(path.repository), !path.workspace.hasPrefix("-"),
            !path.repository.hasPrefix("-")
        else { fatalError("\(command) named \(path.workspace)/\(path.repository)") }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    check(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

#if FUZZING
    @_cdecl("FuzzGitCommands_main")
    public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
        runFuzzer(argc, argv, fuzz)
    }
#else
    @main
    struct Replay {
        static func main() throws { try replayCorpus(check) }
    }
#endif
