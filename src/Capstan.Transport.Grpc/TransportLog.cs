namespace Capstan.Transport.Grpc;

using Microsoft.Extensions.Logging;

/// <summary>
/// The transport's log lines. Lines about bad input (malformed frames, refusals) are rate-limited
/// to one per kind per second so that a misbehaving peer cannot flood the log; the counters keep
/// the exact numbers.
/// </summary>
internal sealed partial class TransportLog
{
    private static readonly long IntervalMilliseconds = 1000;
    private readonly ILogger _logger;
    private long _lastMalformed = long.MinValue / 2;
    private long _lastRefused = long.MinValue / 2;
    private long _lastPeerRejected = long.MinValue / 2;

    public TransportLog(ILogger logger)
    {
        _logger = logger;
    }

    public void MalformedFrame(string from, ulong sequence, int rejected, string reason)
    {
        if (Due(ref _lastMalformed))
        {
            LogMalformedFrame(_logger, from, sequence, rejected, reason);
        }
    }

    public void UnreadableFrame(string peer, Exception error) => LogUnreadableFrame(_logger, peer, error.Message, error);

    public void SendRefused(string to, string reason)
    {
        if (Due(ref _lastRefused))
        {
            LogSendRefused(_logger, to, reason);
        }
    }

    public void PeerRejected(string peer, int rejected, string error)
    {
        if (Due(ref _lastPeerRejected))
        {
            LogPeerRejected(_logger, peer, rejected, error);
        }
    }

    public void Connected(string peer, string address, bool reconnect) => LogConnected(_logger, peer, address, reconnect);

    public void ConnectFailed(string peer, string address, int attempt, Exception error) =>
        LogConnectFailed(_logger, peer, address, attempt, error.Message);

    public void StreamBroke(string peer, string address, Exception? error) =>
        LogStreamBroke(_logger, peer, address, error?.Message ?? "the peer ended the stream");

    public void PeerLeft(string peer, int discarded) => LogPeerLeft(_logger, peer, discarded);

    public void ResolverFailed(string peer, Exception error) => LogResolverFailed(_logger, peer, error);

    public void SubscriberFailed(string endpoint, Exception error) => LogSubscriberFailed(_logger, endpoint, error);

    public void Unexpected(string where, Exception error) => LogUnexpected(_logger, where, error);

    public void Disposed(int peers, long dropped) => LogDisposed(_logger, peers, dropped);

    private static bool Due(ref long last)
    {
        long now = Environment.TickCount64;
        long previous = Volatile.Read(ref last);
        return now - previous >= IntervalMilliseconds && Interlocked.CompareExchange(ref last, now, previous) == previous;
    }

    [LoggerMessage(1, LogLevel.Warning, "Rejected {Rejected} malformed message(s) of frame {Sequence} from capture '{From}': {Reason} (further such lines within a second are suppressed; see the counters)")]
    private static partial void LogMalformedFrame(ILogger logger, string from, ulong sequence, int rejected, string reason);

    [LoggerMessage(2, LogLevel.Warning, "Closed a transport stream from {Peer}: a frame could not be read: {Reason}")]
    private static partial void LogUnreadableFrame(ILogger logger, string peer, string reason, Exception error);

    [LoggerMessage(3, LogLevel.Warning, "Refused to send to capture '{To}': {Reason} (further such lines within a second are suppressed; see the counters)")]
    private static partial void LogSendRefused(ILogger logger, string to, string reason);

    [LoggerMessage(4, LogLevel.Information, "Capture '{Peer}' rejected {Rejected} message(s): {Error} (further such lines within a second are suppressed)")]
    private static partial void LogPeerRejected(ILogger logger, string peer, int rejected, string error);

    [LoggerMessage(5, LogLevel.Information, "Transport stream to capture '{Peer}' at {Address} established (reconnect: {Reconnect})")]
    private static partial void LogConnected(ILogger logger, string peer, string address, bool reconnect);

    [LoggerMessage(6, LogLevel.Debug, "Transport stream to capture '{Peer}' at {Address} could not be established (attempt {Attempt}): {Reason}")]
    private static partial void LogConnectFailed(ILogger logger, string peer, string address, int attempt, string reason);

    [LoggerMessage(7, LogLevel.Information, "Transport stream to capture '{Peer}' at {Address} broke: {Reason}; reconnecting")]
    private static partial void LogStreamBroke(ILogger logger, string peer, string address, string reason);

    [LoggerMessage(8, LogLevel.Information, "Capture '{Peer}' has no address any more (left the cluster); its connection is closed and {Discarded} buffered message(s) discarded")]
    private static partial void LogPeerLeft(ILogger logger, string peer, int discarded);

    [LoggerMessage(9, LogLevel.Warning, "The address resolver failed for capture '{Peer}'; treating it as unknown")]
    private static partial void LogResolverFailed(ILogger logger, string peer, Exception error);

    [LoggerMessage(10, LogLevel.Error, "A MessagesArrived subscriber of endpoint {Endpoint} threw")]
    private static partial void LogSubscriberFailed(ILogger logger, string endpoint, Exception error);

    [LoggerMessage(11, LogLevel.Error, "Unexpected error in the transport ({Where})")]
    private static partial void LogUnexpected(ILogger logger, string where, Exception error);

    [LoggerMessage(12, LogLevel.Information, "Transport disposed: {Peers} peer connection(s) closed, {Dropped} buffered message(s) not sent")]
    private static partial void LogDisposed(ILogger logger, int peers, long dropped);
}
