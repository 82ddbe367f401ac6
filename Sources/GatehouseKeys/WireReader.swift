/// Reads the SSH wire encoding (RFC 4251 §5) of a public key blob.
struct WireReader {
    private let bytes: [UInt8]
    private var offset = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var isAtEnd: Bool { offset == bytes.count }

    mutating func readString() throws(KeyError) -> ArraySlice<UInt8> {
        guard bytes.count - offset >= 4 else { throw .truncated }
        let length = bytes[offset..<offset + 4].reduce(0) { $0 << 8 | Int($1) }
        offset += 4
        guard bytes.count - offset >= length else { throw .truncated }
        defer { offset += length }
        return bytes[offset..<offset + length]
    }

    /// Skips a fixed-size field (`uint32` is 4 bytes, `uint64` 8).
    mutating func skip(_ count: Int) throws(KeyError) {
        guard bytes.count - offset >= count else { throw .truncated }
        offset += count
    }

    mutating func readText() throws(KeyError) -> String {
        String(decoding: try readString(), as: UTF8.self)
    }
}
