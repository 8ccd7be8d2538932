namespace Capstan.Transport.Grpc;

using Capstan.Core.Model;

/// <summary>
/// A snapshot of what a <see cref="GrpcTransport"/> did since it was created (monotonic counts,
/// except <see cref="PeerCounters.Buffered"/> and <see cref="PeerCounters.Connected"/>).
/// Messages are counted one by one; a message is counted under exactly one of Queued,
/// SelfDelivered or a Refused* counter when it is sent, and a queued one later under SentMessages
/// or DroppedOnDisconnect (or is still buffered).
/// </summary>
public sealed record GrpcTransportCounters
{
    /// <summary>Remote messages accepted by <c>Send</c> into a peer's send buffer.</summary>
    public long Queued { get; init; }

    /// <summary>Messages to this capture itself, delivered in-process (no serialisation).</summary>
    public long SelfDelivered { get; init; }

    /// <summary>Messages written to a peer's stream.</summary>
    public long SentMessages { get; init; }

    /// <summary>Frames written to peers' streams.</summary>
    public long SentFrames { get; init; }

    /// <summary>Messages refused by <c>Send</c> because the peer's send buffer was full.</summary>
    public long RefusedSendBufferFull { get; init; }

    /// <summary>Messages refused by <c>Send</c> because they do not fit in a frame of <see cref="GrpcTransportOptions.MaxFrameBytes"/>.</summary>
    public long RefusedOversize { get; init; }

    /// <summary>Messages refused by <c>Send</c> because they name no <c>To</c> capture or the resolver knows no address for it.</summary>
    public long RefusedUnknownPeer { get; init; }

    /// <summary>Messages refused by <c>Send</c> because they are not well formed (cannot be put on the wire).</summary>
    public long RefusedMalformed { get; init; }

    /// <summary>Messages refused by <c>Send</c> because the sending endpoint (or the transport) was closed.</summary>
    public long RefusedSenderClosed { get; init; }

    /// <summary>Queued messages lost before they were written: the stream broke, the peer left, or the transport was disposed.</summary>
    public long DroppedOnDisconnect { get; init; }

    /// <summary>Messages peers acknowledged as delivered to an inbox.</summary>
    public long AcceptedByPeers { get; init; }

    /// <summary>Messages peers acknowledged as rejected (malformed, unknown endpoint, inbox full).</summary>
    public long RejectedByPeers { get; init; }

    /// <summary>Streams re-established after a previous one to the same peer broke.</summary>
    public long Reconnects { get; init; }

    /// <summary>Failed attempts to establish a stream.</summary>
    public long ConnectFailures { get; init; }

    /// <summary>Frames received from peers (well formed or not, but decodable).</summary>
    public long ReceivedFrames { get; init; }

    /// <summary>Messages from peers delivered to a local inbox.</summary>
    public long Received { get; init; }

    /// <summary>Messages taken from inboxes by <c>Receive</c> (remote and self).</summary>
    public long Taken { get; init; }

    /// <summary>Incoming messages rejected as malformed (bad frame header, wrong sender or receiver, not decodable).</summary>
    public long RejectedMalformed { get; init; }

    /// <summary>Incoming frames rejected as a whole: bad header, or bytes that are not a frame (the stream is then closed).</summary>
    public long RejectedBadFrames { get; init; }

    /// <summary>Incoming (or self-sent) messages rejected because no endpoint is open for their changefeed and role.</summary>
    public long RejectedUnknownEndpoint { get; init; }

    /// <summary>Incoming (or self-sent) messages rejected because the endpoint's inbox was full.</summary>
    public long RejectedInboxFull { get; init; }

    /// <summary>Per peer capture this transport has sent to (peers that left are no longer listed).</summary>
    public IReadOnlyList<PeerCounters> Peers { get; init; } = [];

    /// <summary>The counters of one peer, or null when it is not listed.</summary>
    public PeerCounters? Peer(CaptureId capture)
    {
        foreach (var peer in Peers)
        {
            if (peer.Capture == capture)
            {
                return peer;
            }
        }

        return null;
    }
}

/// <summary>The sending side's counters for one peer capture.</summary>
public sealed record PeerCounters
{
    /// <summary>The peer.</summary>
    public CaptureId Capture { get; init; }

    /// <summary>The address of the current or last connection attempt; null before the first.</summary>
    public string? Address { get; init; }

    /// <summary>True while a stream to the peer is established.</summary>
    public bool Connected { get; init; }

    /// <summary>Messages in the send buffer now.</summary>
    public int Buffered { get; init; }

    /// <summary>Messages accepted into the send buffer.</summary>
    public long Queued { get; init; }

    /// <summary>Messages written to the stream.</summary>
    public long SentMessages { get; init; }

    /// <summary>Frames written to the stream.</summary>
    public long SentFrames { get; init; }

    /// <summary>Messages refused because the send buffer was full.</summary>
    public long RefusedSendBufferFull { get; init; }

    /// <summary>Messages refused because they do not fit in a frame.</summary>
    public long RefusedOversize { get; init; }

    /// <summary>Queued messages lost before they were written.</summary>
    public long DroppedOnDisconnect { get; init; }

    /// <summary>Messages the peer acknowledged as delivered.</summary>
    public long AcceptedByPeer { get; init; }

    /// <summary>Messages the peer acknowledged as rejected.</summary>
    public long RejectedByPeer { get; init; }

    /// <summary>Streams re-established after a break.</summary>
    public long Reconnects { get; init; }

    /// <summary>Failed attempts to establish a stream.</summary>
    public long ConnectFailures { get; init; }
}

/// <summary>The counters a transport keeps; one cell per counter, updated with interlocked adds.</summary>
internal enum Counter
{
    Queued,
    SelfDelivered,
    SentMessages,
    SentFrames,
    RefusedSendBufferFull,
    RefusedOversize,
    RefusedUnknownPeer,
    RefusedMalformed,
    RefusedSenderClosed,
    DroppedOnDisconnect,
    AcceptedByPeers,
    RejectedByPeers,
    Reconnects,
    ConnectFailures,
    ReceivedFrames,
    Received,
    Taken,
    RejectedMalformed,
    RejectedBadFrames,
    RejectedUnknownEndpoint,
    RejectedInboxFull,
}

/// <summary>Thread-safe monotonic counter cells.</summary>
internal sealed class CounterCells
{
    private readonly long[] _cells = new long[Enum.GetValues<Counter>().Length];

    /// <summary>Adds <paramref name="amount"/> to a counter.</summary>
    public void Add(Counter counter, long amount = 1)
    {
        if (amount != 0)
        {
            Interlocked.Add(ref _cells[(int)counter], amount);
        }
    }

    /// <summary>The current value of a counter.</summary>
    public long this[Counter counter] => Interlocked.Read(ref _cells[(int)counter]);
}
