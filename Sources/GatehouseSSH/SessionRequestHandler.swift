import NIOConcurrencyHelpers
import NIOCore
import NIOSSH

/// What the client asked a session channel to run.
enum SessionStart: Sendable {
    case exec(String)
    case shell
}

/// State a session's request handler shares with the task that serves the session.
final class SessionState: Sendable {
    let start: EventLoopPromise<SessionStart>
    private let values = NIOLockedValueBox<(gitProtocol: String?, peerClosedInput: Bool)>((nil, false))

    init(eventLoop: any EventLoop) {
        start = eventLoop.makePromise()
    }

    var gitProtocol: String? { values.withLockedValue { $0.gitProtocol } }
    var peerClosedInput: Bool { values.withLockedValue { $0.peerClosedInput } }

    func setGitProtocol(_ value: String) { values.withLockedValue { $0.gitProtocol = value } }
    func markPeerClosedInput() { values.withLockedValue { $0.peerClosedInput = true } }
}

/// Answers a session channel's requests: one exec or shell starts the session; env passes GIT_PROTOCOL;
/// PTY, subsystems and anything else are refused. Data passes through to the session task.
final class SessionRequestHandler: ChannelInboundHandler {
    typealias InboundIn = SSHChannelData
    typealias InboundOut = SSHChannelData

    private let state: SessionState
    private var started = false

    init(state: SessionState) {
        self.state = state
    }

    func handlerAdded(context: ChannelHandlerContext) {
        // Git clients half-close after sending their request; the session must outlive that.
        context.channel.setOption(ChannelOptions.allowRemoteHalfClosure, value: true).whenFailure { error in
            context.fireErrorCaught(error)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        if !started { state.start.fail(ChannelError.eof) }
    }

    func channelInactive(context: ChannelHandlerContext) {
        if !started {
            started = true
            state.start.fail(ChannelError.eof)
        }
        context.fireChannelInactive()
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        switch event {
        case let request as SSHChannelRequestEvent.EnvironmentRequest:
            let accepted = request.name == "GIT_PROTOCOL"
            if accepted { state.setGitProtocol(request.value) }
            reply(context, accepted, wanted: request.wantReply)
        case let request as SSHChannelRequestEvent.ExecRequest:
            begin(context, .exec(request.command), wantReply: request.wantReply)
        case let request as SSHChannelRequestEvent.ShellRequest:
            begin(context, .shell, wantReply: request.wantReply)
        case let request as SSHChannelRequestEvent.PseudoTerminalRequest:
            reply(context, false, wanted: request.wantReply)
        case let request as SSHChannelRequestEvent.SubsystemRequest:
            reply(context, false, wanted: request.wantReply)
        case ChannelEvent.inputClosed:
            state.markPeerClosedInput()
            context.fireUserInboundEventTriggered(event)
        default:
            context.fireUserInboundEventTriggered(event)
        }
    }

    private func begin(_ context: ChannelHandlerContext, _ start: SessionStart, wantReply: Bool) {
        guard !started else {
            reply(context, false, wanted: wantReply)
            return
        }
        started = true
        reply(context, true, wanted: wantReply)
        state.start.succeed(start)
    }

    private func reply(_ context: ChannelHandlerContext, _ success: Bool, wanted: Bool) {
        guard wanted else { return }
        let event: Any = success ? ChannelSuccessEvent() : ChannelFailureEvent()
        context.triggerUserOutboundEvent(event, promise: nil)
    }
}
