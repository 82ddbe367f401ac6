import FuzzSupport
import GatehouseKeys

/// The public-key parser: any text is either refused with a `KeyError` or a key whose own OpenSSH line parses
/// back to the same key.
func check(_ bytes: [UInt8]) {
    guard let key = try? PublicKey(parsing: text(bytes)) else { return }
    guard let again = try? PublicKey(parsing: key.openSSHWithComment), again.fingerprint == key.fingerprint, again.bits == key.bits else {
        fatalError("\(key.openSSHWithComment) does not parse back to itself")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    check(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

#if FUZZING
    @_cdecl("FuzzPublicKeys_main")
    public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
        runFuzzer(argc, argv, fuzz)
    }
#else
    @main
    struct Replay {
        static func main() throws { try replayCorpus(check) }
    }
#endif
