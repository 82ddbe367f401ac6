import Foundation
import FuzzSupport
import GatehouseKeys

/// The certificate reader (what sshd hands `authorized-keys`): the first byte picks the declared certificate type,
/// the rest is the blob. Either a `KeyError`, or a signing key that is itself a valid public key.
let types = SSHCertificate.types.keys.sorted()

func check(_ bytes: [UInt8]) {
    guard let first = bytes.first else { return }
    let type = types[Int(first) % types.count]
    guard let certificate = try? SSHCertificate(type: type, base64: Data(bytes.dropFirst()).base64EncodedString()) else { return }
    guard (try? PublicKey(parsing: certificate.signingKey.openSSH))?.fingerprint == certificate.signingKey.fingerprint else {
        fatalError("the signing key of a \(type) does not parse as a key")
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    check(Array(UnsafeBufferPointer(start: data, count: size)))
    return 0
}

#if FUZZING
    @_cdecl("FuzzCertificates_main")
    public func fuzzerMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
        runFuzzer(argc, argv, fuzz)
    }
#else
    @main
    struct Replay {
        static func main() throws { try replayCorpus(check) }
    }
#endif
