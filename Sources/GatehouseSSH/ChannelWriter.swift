import NIOConcurrencyHelpers
import NIOCore
import NIOSSH

/// Writes one stream of a session (stdout or stderr) to an SSH channel, keeping a few writes in flight.
///
/// Waiting for each write before reading the next chunk from git would serialise reading, encryption and
/// sending; a small window overlaps them while still bounding memory (git is read no faster than the
/// client's SSH window drains). `drain()` waits for everything, which must happen before the exit status:
/// closing a channel with writes still pending drops them.
final class ChannelWriter: Sendable {
    private let channel: any Channel
    private let type: SSHChannelData.DataType
    private let pending = NIOLockedValueBox<[EventLoopFuture<Void>]>([])
    private let written = NIOLockedValueBox(0)
    /// Chunks of up to a pipe buffer (64 KiB) each.
    private let window = 8

    init(channel: any Channel, type: SSHChannelData.DataType) {
        self.channel = channel
        self.type = type
    }

    /// Queues a chunk; waits for the oldest write when the window is full.
    func write(_ bytes: [UInt8]) async throws {
        written.withLockedValue { $0 += bytes.count }
        let data = SSHChannelData(type: type, data: .byteBuffer(channel.allocator.buffer(bytes: bytes)))
        let oldest: EventLoopFuture<Void>? = pending.withLockedValue { pending in
            pending.append(channel.writeAndFlush(data))
            return pending.count > window ? pending.removeFirst() : nil
        }
        try await oldest?.get()
    }

    /// How many bytes were queued so far.
    var bytesWritten: Int { written.withLockedValue { $0 } }

    /// Waits until every queued write has completed.
    func drain() async throws {
        let all = pending.withLockedValue { pending in
            defer { pending.removeAll() }
            return pending
        }
        for future in all { try await future.get() }
    }
}
