namespace Capstan.Transport.Grpc;

using System.Collections.Concurrent;
using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Protocol;
using Capstan.Runtime.Transport;
using Google.Protobuf;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Ack = Capstan.Protocol.Transport.Ack;
using Frame = Capstan.Protocol.Transport.Frame;
using Wire = Capstan.Protocol.Wire;
using WireRole = Capstan.Protocol.Transport.Role;

/// <summary>
/// The gRPC transport of one capture: the sending side (one stream per peer capture, batched,
/// bounded, reconnecting) and the receiving side (the endpoints' bounded inboxes, filled by
/// <see cref="CaptureTransportService"/>). See docs/TRANSPORT.md.
/// </summary>
/// <remarks>
/// <para>
/// <b>Send.</b> Each message goes to its <see cref="Message.To"/> capture, to the changefeed of the
/// sending endpoint and the other role (an agent endpoint sends to the coordinator and back).
/// Messages to this capture itself are delivered in-process without serialisation. For a peer,
/// <c>Send</c> maps the message to its wire form, checks it fits in a frame, and puts it in the
/// peer's bounded send buffer; it never blocks and returns how many messages it accepted. Every
/// refused message is counted under its reason; the others of the call are still accepted (TiCDC
/// drops the rest of a batch silently, spec §13 #8).
/// </para>
/// <para>
/// <b>Receive.</b> A frame's messages go to the endpoint of (frame changefeed, frame role) if one is
/// open — otherwise they are refused and counted: never held, consistent with the in-process
/// transport; the scheduler protocol resends what matters with the next heartbeat. A full inbox
/// refuses exactly the messages that do not fit.
/// </para>
/// <para>
/// An empty <see cref="Message.From"/> is stamped with this capture's id; a message whose
/// <c>From</c> is another capture is refused as malformed (on the wire, a frame's messages must be
/// from the frame's sender).
/// </para>
/// <para>Thread-safe. Each endpoint has one reader (its host loop); any thread may send.</para>
/// </remarks>
public sealed class GrpcTransport : IMessageTransport
{
    private const int MaxAckErrorLength = 512;
    private readonly Func<CaptureId, string?> _resolveAddress;
    private readonly ConcurrentDictionary<EndpointKey, LocalEndpoint> _endpoints = new();
    private readonly ConcurrentDictionary<CaptureId, PeerConnection> _peers = new();
    private readonly object _peersGate = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly CancellationTokenSource _aborting = new();
    private readonly TlsMaterial? _tls;
    private int _disposed;

    /// <summary>Creates the transport of capture <paramref name="self"/>.</summary>
    /// <param name="self">This capture.</param>
    /// <param name="resolveAddress">
    /// A peer's address (<c>http://host:port</c>, <c>https://host:port</c>, or <c>host:port</c> — the
    /// scheme then follows <see cref="GrpcTransportOptions.Tls"/>), or null when the capture is not
    /// (any more) a member; typically membership's <c>CaptureInfo.Address</c>. Called on any thread.
    /// </param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <param name="loggerFactory">Logging; null for none.</param>
    public GrpcTransport(
        CaptureId self, Func<CaptureId, string?> resolveAddress, GrpcTransportOptions? options = null, ILoggerFactory? loggerFactory = null)
    {
        if (self.IsNone)
        {
            throw new ArgumentException("a transport needs its capture's id", nameof(self));
        }

        ArgumentNullException.ThrowIfNull(resolveAddress);
        Self = self;
        _resolveAddress = resolveAddress;
        Options = (options ?? new GrpcTransportOptions()).Validate();
        Log = new TransportLog((loggerFactory ?? NullLoggerFactory.Instance).CreateLogger<GrpcTransport>());
        _tls = Options.Tls is null ? null : TlsMaterial.Load(Options.Tls);
    }

    /// <summary>This capture.</summary>
    public CaptureId Self { get; }

    /// <summary>The settings.</summary>
    public GrpcTransportOptions Options { get; }

    /// <summary>A snapshot of the counters (totals since creation, and per current peer).</summary>
    public GrpcTransportCounters Counters
    {
        get
        {
            var peers = new List<PeerCounters>(_peers.Count);
            foreach (var peer in _peers.Values)
            {
                peers.Add(peer.Snapshot());
            }

            peers.Sort((a, b) => a.Capture.CompareTo(b.Capture));
            return new GrpcTransportCounters
            {
                Queued = Cells[Counter.Queued],
                SelfDelivered = Cells[Counter.SelfDelivered],
                SentMessages = Cells[Counter.SentMessages],
                SentFrames = Cells[Counter.SentFrames],
                RefusedSendBufferFull = Cells[Counter.RefusedSendBufferFull],
                RefusedOversize = Cells[Counter.RefusedOversize],
                RefusedUnknownPeer = Cells[Counter.RefusedUnknownPeer],
                RefusedMalformed = Cells[Counter.RefusedMalformed],
                RefusedSenderClosed = Cells[Counter.RefusedSenderClosed],
                DroppedOnDisconnect = Cells[Counter.DroppedOnDisconnect],
                AcceptedByPeers = Cells[Counter.AcceptedByPeers],
                RejectedByPeers = Cells[Counter.RejectedByPeers],
                Reconnects = Cells[Counter.Reconnects],
                ConnectFailures = Cells[Counter.ConnectFailures],
                ReceivedFrames = Cells[Counter.ReceivedFrames],
                Received = Cells[Counter.Received],
                Taken = Cells[Counter.Taken],
                RejectedMalformed = Cells[Counter.RejectedMalformed],
                RejectedBadFrames = Cells[Counter.RejectedBadFrames],
                RejectedUnknownEndpoint = Cells[Counter.RejectedUnknownEndpoint],
                RejectedInboxFull = Cells[Counter.RejectedInboxFull],
                Peers = peers,
            };
        }
    }

    internal CounterCells Cells { get; } = new();

    internal TransportLog Log { get; }

    /// <summary>Cancelled when disposal starts: loops flush and finish, server calls end.</summary>
    internal CancellationToken Stopping => _stopping.Token;

    /// <summary>Cancelled when disposal gives up waiting: streams are aborted.</summary>
    internal CancellationToken Aborting => _aborting.Token;

    /// <inheritdoc/>
    /// <exception cref="ArgumentException"><paramref name="self"/> is not this transport's capture.</exception>
    /// <exception cref="InvalidOperationException">The endpoint is already open, or the transport is disposed.</exception>
    public IMessageEndpoint Open(CaptureId self, ChangefeedId changefeed, TransportRole role)
    {
        if (self != Self)
        {
            throw new ArgumentException($"this transport serves capture '{Self}', not '{self}'", nameof(self));
        }

        if (string.IsNullOrEmpty(changefeed.Value))
        {
            throw new ArgumentException("an endpoint needs a changefeed id", nameof(changefeed));
        }

        if (role is not (TransportRole.Agent or TransportRole.Scheduler))
        {
            throw new ArgumentOutOfRangeException(nameof(role), role, "unknown role");
        }

        ObjectDisposedException.ThrowIf(Volatile.Read(ref _disposed) != 0, this);
        var key = new EndpointKey(changefeed, role);
        var endpoint = new LocalEndpoint(this, key, Options.InboxCapacity);
        if (!_endpoints.TryAdd(key, endpoint))
        {
            throw new InvalidOperationException($"endpoint {key} of capture '{Self}' is already open");
        }

        return endpoint;
    }

    /// <summary>True when an endpoint is open for the changefeed and role.</summary>
    public bool IsOpen(ChangefeedId changefeed, TransportRole role) => _endpoints.ContainsKey(new EndpointKey(changefeed, role));

    /// <summary>
    /// Closes every endpoint, flushes what the send buffers hold (for at most
    /// <see cref="GrpcTransportOptions.DisposeTimeout"/>), completes the streams, disposes the
    /// channels, and ends the server's streams. Never throws.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        foreach (var endpoint in _endpoints.Values)
        {
            endpoint.Dispose();
        }

        long droppedBefore = Cells[Counter.DroppedOnDisconnect];
        List<Task> loops;
        lock (_peersGate)
        {
            loops = [.. _peers.Values.Select(peer => peer.Completion)];
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        var all = Task.WhenAll(loops);
        if (!await Finishes(all, Options.DisposeTimeout).ConfigureAwait(false))
        {
            await _aborting.CancelAsync().ConfigureAwait(false);
            await Finishes(all, TimeSpan.FromSeconds(5)).ConfigureAwait(false);
        }

        _tls?.Dispose();
        Log.Disposed(loops.Count, Cells[Counter.DroppedOnDisconnect] - droppedBefore);
    }

    /// <summary>Routes the messages of one endpoint (see the class remarks).</summary>
    internal int SendFrom(EndpointKey from, IReadOnlyList<Message> messages)
    {
        var target = new EndpointKey(from.Changefeed, from.Role == TransportRole.Agent ? TransportRole.Scheduler : TransportRole.Agent);
        int headerBytes = FrameSizing.HeaderBytes(Self.Value, from.Changefeed.Value);
        int accepted = 0;
        PeerConnection? peer = null;
        for (int index = 0; index < messages.Count; index++)
        {
            var message = messages[index];
            if (!Routable(message))
            {
                continue;
            }

            if (message.To == Self)
            {
                accepted += DeliverToSelf(target, message) ? 1 : 0;
                continue;
            }

            peer = peer is not null && peer.Capture == message.To ? peer : Peer(message.To);
            if (peer is null)
            {
                Cells.Add(Volatile.Read(ref _disposed) != 0 ? Counter.RefusedSenderClosed : Counter.RefusedUnknownPeer);
                continue;
            }

            accepted += Enqueue(peer, target, headerBytes, message) ? 1 : 0;
        }

        return accepted;
    }

    /// <summary>Delivers the messages of one received frame; the returned ack says what happened to them.</summary>
    internal Ack HandleFrame(Frame frame)
    {
        Cells.Add(Counter.ReceivedFrames);
        int count = frame.Messages.Count;
        var ack = new Ack { Sequence = frame.Sequence };
        string? headerError = FrameHeaderError(frame);
        if (headerError is not null)
        {
            Cells.Add(Counter.RejectedBadFrames);
            Cells.Add(Counter.RejectedMalformed, count);
            Log.MalformedFrame(frame.FromCapture, frame.Sequence, count, headerError);
            ack.Rejected = count;
            ack.Error = Truncate(headerError);
            return ack;
        }

        var key = new EndpointKey(frame.Changefeed, frame.Role == WireRole.Agent ? TransportRole.Agent : TransportRole.Scheduler);
        if (!_endpoints.TryGetValue(key, out var endpoint))
        {
            return RejectUnknownEndpoint(ack, key, count);
        }

        var (messages, firstError) = Decode(frame);
        int malformed = count - messages.Count;
        int delivered = messages.Count == 0 ? 0 : endpoint.TryDeliver(messages);
        if (delivered < 0)
        {
            // Closed between the lookup and the delivery.
            Cells.Add(Counter.RejectedMalformed, malformed);
            return RejectUnknownEndpoint(ack, key, count, malformed);
        }

        int full = messages.Count - delivered;
        Cells.Add(Counter.Received, delivered);
        Cells.Add(Counter.RejectedMalformed, malformed);
        Cells.Add(Counter.RejectedInboxFull, full);
        if (malformed > 0)
        {
            Log.MalformedFrame(frame.FromCapture, frame.Sequence, malformed, firstError!);
        }

        ack.Accepted = delivered;
        ack.Rejected = malformed + full;
        ack.Error = Truncate(Describe(malformed, firstError, full, key));
        return ack;
    }

    /// <summary>Counts a frame that could not even be read (the server then closes the stream).</summary>
    internal void RejectUnreadableFrame(string peer, Exception error)
    {
        Cells.Add(Counter.RejectedBadFrames);
        Log.UnreadableFrame(peer, error);
    }

    internal void Unregister(LocalEndpoint endpoint) =>
        _endpoints.TryRemove(new KeyValuePair<EndpointKey, LocalEndpoint>(endpoint.Key, endpoint));

    internal void OnPeerClosed(PeerConnection peer) =>
        _peers.TryRemove(new KeyValuePair<CaptureId, PeerConnection>(peer.Capture, peer));

    /// <summary>The peer's address with a scheme, or null when it has none (or the resolver failed).</summary>
    internal string? ResolveAddress(CaptureId capture)
    {
        string? address;
        try
        {
            address = _resolveAddress(capture);
        }
        catch (Exception error)
        {
            Log.ResolverFailed(capture.Value, error);
            return null;
        }

        if (string.IsNullOrWhiteSpace(address))
        {
            return null;
        }

        address = address.Trim();
        return address.Contains("://", StringComparison.Ordinal) ? address
            : (_tls is null ? "http://" : "https://") + address;
    }

    /// <summary>The HTTP handler of one peer channel: keep-alive pings, connect timeout, TLS.</summary>
    internal SocketsHttpHandler CreateHttpHandler()
    {
        var handler = new SocketsHttpHandler
        {
            ConnectTimeout = Options.ConnectTimeout,
            KeepAlivePingDelay = Options.KeepAlivePingDelay,
            KeepAlivePingTimeout = Options.KeepAlivePingTimeout,
            KeepAlivePingPolicy = HttpKeepAlivePingPolicy.Always,
            PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
            EnableMultipleHttp2Connections = false,
        };
        if (_tls is not null)
        {
            handler.SslOptions = _tls.ClientOptions();
        }

        return handler;
    }

    private static async Task<bool> Finishes(Task task, TimeSpan timeout)
    {
        try
        {
            await task.WaitAsync(timeout).ConfigureAwait(false);
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }

    private static string? FrameHeaderError(Frame frame)
    {
        if (frame.FromCapture.Length == 0)
        {
            return "the frame names no sending capture (from_capture is empty)";
        }

        if (frame.Changefeed.Length == 0)
        {
            return "the frame names no changefeed";
        }

        return frame.Role is WireRole.Agent or WireRole.Scheduler
            ? null
            : $"the frame's role {(int)frame.Role} is not AGENT (1) or SCHEDULER (2)";
    }

    private static string Describe(int malformed, string? firstError, int full, EndpointKey key)
    {
        if (malformed == 0 && full == 0)
        {
            return string.Empty;
        }

        string text = malformed > 0 ? $"{malformed} malformed (first: {firstError})" : string.Empty;
        if (full > 0)
        {
            text += (text.Length > 0 ? "; " : string.Empty) + $"{full} refused: the inbox of {key} is full";
        }

        return text;
    }

    private static string Truncate(string text) => text.Length <= MaxAckErrorLength ? text : text[..MaxAckErrorLength];

    private Ack RejectUnknownEndpoint(Ack ack, EndpointKey key, int count, int malformed = 0)
    {
        Cells.Add(Counter.RejectedUnknownEndpoint, count - malformed);
        ack.Rejected = count;
        ack.Error = Truncate($"capture '{Self}' has no endpoint open for {key}");
        return ack;
    }

    private (List<Message> Messages, string? FirstError) Decode(Frame frame)
    {
        var messages = new List<Message>(frame.Messages.Count);
        string? firstError = null;
        foreach (var wire in frame.Messages)
        {
            string? error = !string.Equals(wire.From, frame.FromCapture, StringComparison.Ordinal)
                ? $"a message from '{wire.From}' in a frame from '{frame.FromCapture}'"
                : !string.Equals(wire.To, Self.Value, StringComparison.Ordinal)
                    ? $"a message to '{wire.To}' arrived at capture '{Self}'"
                    : null;
            if (error is null)
            {
                try
                {
                    messages.Add(WireMapping.FromWire(wire));
                    continue;
                }
                catch (Exception decodeError)
                {
                    // WireFormatException normally; anything else is a malformed message too, never a crash.
                    error = decodeError.Message;
                }
            }

            firstError ??= error;
        }

        return (messages, firstError);
    }

    private bool Routable(Message? message)
    {
        if (message is null || !message.IsWellFormed || (!message.From.IsNone && message.From != Self))
        {
            Cells.Add(Counter.RefusedMalformed);
            Log.SendRefused(message?.To.Value ?? "?", message is null ? "a null message"
                : message.IsWellFormed ? $"its From '{message.From}' is not this capture '{Self}'"
                : $"the {message.Type} message is not well formed");
            return false;
        }

        if (message.To.IsNone)
        {
            Cells.Add(Counter.RefusedUnknownPeer);
            return false;
        }

        return true;
    }

    private bool DeliverToSelf(EndpointKey target, Message message)
    {
        if (!_endpoints.TryGetValue(target, out var endpoint))
        {
            Cells.Add(Counter.RejectedUnknownEndpoint);
            return false;
        }

        var stamped = message.From.IsNone ? message with { From = Self } : message;
        switch (endpoint.TryDeliver(stamped))
        {
            case InboxResult.Accepted:
                Cells.Add(Counter.SelfDelivered);
                return true;
            case InboxResult.Full:
                Cells.Add(Counter.RejectedInboxFull);
                return false;
            default:
                Cells.Add(Counter.RejectedUnknownEndpoint);
                return false;
        }
    }

    private bool Enqueue(PeerConnection peer, EndpointKey target, int headerBytes, Message message)
    {
        Wire.Message wire;
        try
        {
            wire = WireMapping.ToWire(message);
        }
        catch (WireFormatException error)
        {
            Cells.Add(Counter.RefusedMalformed);
            Log.SendRefused(message.To.Value, error.Message);
            return false;
        }

        if (wire.From.Length == 0)
        {
            wire.From = Self.Value;
        }

        int size = wire.CalculateSize();
        if (headerBytes + FrameSizing.MessageBytes(size) > Options.MaxFrameBytes)
        {
            peer.Count(Counter.RefusedOversize);
            Log.SendRefused(message.To.Value, $"the {message.Type} message encodes to {size} bytes; a frame holds at most {Options.MaxFrameBytes}");
            return false;
        }

        switch (peer.Buffer.TryAdd(new PendingMessage(target, wire, size)))
        {
            case EnqueueResult.Accepted:
                peer.Count(Counter.Queued);
                return true;
            case EnqueueResult.Full:
                peer.Count(Counter.RefusedSendBufferFull);
                return false;
            default:
                Cells.Add(Volatile.Read(ref _disposed) != 0 ? Counter.RefusedSenderClosed : Counter.RefusedUnknownPeer);
                return false;
        }
    }

    /// <summary>The connection to a peer, created (and started) on first use; null when the peer has no address.</summary>
    private PeerConnection? Peer(CaptureId capture)
    {
        if (_peers.TryGetValue(capture, out var existing))
        {
            return existing;
        }

        if (ResolveAddress(capture) is null)
        {
            return null;
        }

        lock (_peersGate)
        {
            if (Volatile.Read(ref _disposed) != 0)
            {
                return null;
            }

            if (_peers.TryGetValue(capture, out existing))
            {
                return existing;
            }

            var peer = new PeerConnection(this, capture);
            _peers[capture] = peer;
            peer.Start();
            return peer;
        }
    }
}
