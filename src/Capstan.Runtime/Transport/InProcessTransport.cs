namespace Capstan.Runtime.Transport;

using Capstan.Core.Model;
using Capstan.Core.Protocol;

/// <summary>Settings of an <see cref="InProcessTransport"/>.</summary>
public sealed record InProcessTransportOptions
{
    /// <summary>The default inbox size: 65,536 messages per (capture, changefeed, role).</summary>
    public const int DefaultInboxCapacity = 65_536;

    /// <summary>Messages an endpoint's inbox holds before it refuses more (1..16,777,216).</summary>
    public int InboxCapacity { get; init; } = DefaultInboxCapacity;

    /// <summary>Throws <see cref="ArgumentOutOfRangeException"/> when a setting is out of range.</summary>
    public InProcessTransportOptions Validate()
    {
        if (InboxCapacity is < 1 or > 16_777_216)
        {
            throw new ArgumentOutOfRangeException(nameof(InboxCapacity), InboxCapacity, "InboxCapacity must be in 1..16777216");
        }

        return this;
    }
}

/// <summary>What a transport or one endpoint did with the messages given to it (monotonic counts).</summary>
public readonly record struct TransportCounters
{
    /// <summary>Messages accepted into a peer's inbox.</summary>
    public long Delivered { get; init; }

    /// <summary>Messages refused because no endpoint was open for their (To, changefeed, peer role).</summary>
    public long RefusedUnknownPeer { get; init; }

    /// <summary>Messages refused because the peer's inbox was full.</summary>
    public long RefusedInboxFull { get; init; }

    /// <summary>Messages refused because the sending endpoint was already closed (its capture crashed or left).</summary>
    public long RefusedSenderClosed { get; init; }

    /// <summary>Messages lost on purpose by the fault filter (<see cref="InProcessTransport.Filter"/>).</summary>
    public long DroppedByFilter { get; init; }

    /// <summary>Messages taken by <see cref="IMessageEndpoint.Receive"/>.</summary>
    public long Received { get; init; }

    /// <summary>All refusals and filter drops.</summary>
    public long NotDelivered => RefusedUnknownPeer + RefusedInboxFull + RefusedSenderClosed + DroppedByFilter;
}

/// <summary>
/// The embedded transport: every (capture, changefeed, role) endpoint has a bounded inbox in this
/// process, and <see cref="IMessageEndpoint.Send"/> puts the core's <see cref="Message"/> objects
/// into the peer's inbox as they are (no copy, no serialisation; messages are immutable records).
/// </summary>
/// <remarks>
/// <para>
/// A message to a capture that has no open endpoint (unknown, crashed or closed) or whose inbox is
/// full is refused: counted, never thrown, and the rest of the batch is still delivered (TiCDC drops
/// the whole remaining batch silently, spec §13 #8). The protocol recovers from any loss through
/// its periodic heartbeats and resends.
/// </para>
/// <para>
/// Thread-safe: hosts on different threads may send and receive concurrently. Each endpoint has one
/// reader (its host loop).
/// </para>
/// </remarks>
public sealed class InProcessTransport : IMessageTransport
{
    private readonly object _registryGate = new();
    private readonly Dictionary<EndpointKey, Endpoint> _endpoints = [];
    private readonly long[] _tallies = new long[(int)Tally.Count];

    /// <summary>Creates a transport.</summary>
    public InProcessTransport(InProcessTransportOptions? options = null)
    {
        Options = (options ?? new InProcessTransportOptions()).Validate();
    }

    /// <summary>The settings.</summary>
    public InProcessTransportOptions Options { get; }

    /// <summary>
    /// Fault injection for tests: when set, a message for which it returns false is lost (counted in
    /// <see cref="TransportCounters.DroppedByFilter"/>). Called on the sender's thread.
    /// </summary>
    public Func<Message, bool>? Filter { get; set; }

    /// <summary>Totals over every endpoint ever opened.</summary>
    public TransportCounters Counters => Read(_tallies);

    /// <inheritdoc/>
    /// <exception cref="InvalidOperationException">The endpoint is already open (one endpoint per key).</exception>
    public IMessageEndpoint Open(CaptureId self, ChangefeedId changefeed, TransportRole role)
    {
        if (self.IsNone)
        {
            throw new ArgumentException("an endpoint needs a capture id", nameof(self));
        }

        var key = new EndpointKey(self, changefeed, role);
        lock (_registryGate)
        {
            if (_endpoints.ContainsKey(key))
            {
                throw new InvalidOperationException($"endpoint {key} is already open");
            }

            var endpoint = new Endpoint(this, key, Options.InboxCapacity);
            _endpoints.Add(key, endpoint);
            return endpoint;
        }
    }

    /// <summary>True when an endpoint is open for the key.</summary>
    public bool IsOpen(CaptureId capture, ChangefeedId changefeed, TransportRole role)
    {
        lock (_registryGate)
        {
            return _endpoints.ContainsKey(new EndpointKey(capture, changefeed, role));
        }
    }

    /// <summary>Closes every endpoint of a capture (used when a capture crashes). Returns how many were closed.</summary>
    public int CloseAll(CaptureId capture)
    {
        List<Endpoint> victims = [];
        lock (_registryGate)
        {
            foreach (var (key, endpoint) in _endpoints)
            {
                if (key.Capture == capture)
                {
                    victims.Add(endpoint);
                }
            }
        }

        foreach (var endpoint in victims)
        {
            endpoint.Dispose();
        }

        return victims.Count;
    }

    /// <inheritdoc/>
    public ValueTask DisposeAsync()
    {
        List<Endpoint> all;
        lock (_registryGate)
        {
            all = [.. _endpoints.Values];
        }

        foreach (var endpoint in all)
        {
            endpoint.Dispose();
        }

        return ValueTask.CompletedTask;
    }

    private static TransportCounters Read(long[] tallies) => new()
    {
        Delivered = Interlocked.Read(ref tallies[(int)Tally.Delivered]),
        RefusedUnknownPeer = Interlocked.Read(ref tallies[(int)Tally.RefusedUnknownPeer]),
        RefusedInboxFull = Interlocked.Read(ref tallies[(int)Tally.RefusedInboxFull]),
        RefusedSenderClosed = Interlocked.Read(ref tallies[(int)Tally.RefusedSenderClosed]),
        DroppedByFilter = Interlocked.Read(ref tallies[(int)Tally.DroppedByFilter]),
        Received = Interlocked.Read(ref tallies[(int)Tally.Received]),
    };

    private static TransportRole PeerOf(TransportRole role) =>
        role == TransportRole.Agent ? TransportRole.Scheduler : TransportRole.Agent;

    private Endpoint? Find(EndpointKey key)
    {
        lock (_registryGate)
        {
            return _endpoints.GetValueOrDefault(key);
        }
    }

    private void Unregister(Endpoint endpoint)
    {
        lock (_registryGate)
        {
            if (_endpoints.TryGetValue(endpoint.Key, out var current) && ReferenceEquals(current, endpoint))
            {
                _endpoints.Remove(endpoint.Key);
            }
        }
    }

    private readonly record struct EndpointKey(CaptureId Capture, ChangefeedId Changefeed, TransportRole Role)
    {
        public override string ToString() => $"{Capture}/{Changefeed}/{Role}";
    }

    /// <summary>One endpoint: a bounded <see cref="MessageInbox"/> (Receive does not allocate) and its counters.</summary>
    private sealed class Endpoint : IMessageEndpoint, IEndpointCounters
    {
        private readonly InProcessTransport _transport;
        private readonly MessageInbox _inbox;
        private readonly long[] _tallies = new long[(int)Tally.Count];

        public Endpoint(InProcessTransport transport, EndpointKey key, int capacity)
        {
            _transport = transport;
            Key = key;
            _inbox = new MessageInbox(capacity, () => MessagesArrived?.Invoke());
        }

        public event Action? MessagesArrived;

        public EndpointKey Key { get; }

        public TransportCounters Counters => Read(_tallies);

        /// <summary>Returns the messages received since the last call; the list is valid until the next call.</summary>
        public IReadOnlyList<Message> Receive()
        {
            var taken = _inbox.TakeAll();
            Add(Tally.Received, taken.Count);
            return taken;
        }

        public int Send(IReadOnlyList<Message> messages)
        {
            if (_inbox.IsClosed)
            {
                Add(Tally.RefusedSenderClosed, messages.Count);
                return 0;
            }

            int accepted = 0;
            Endpoint? lastPeer = null;
            var peerRole = PeerOf(Key.Role);
            for (int i = 0; i < messages.Count; i++)
            {
                var message = messages[i];
                if (_transport.Filter is { } filter && !filter(message))
                {
                    Add(Tally.DroppedByFilter, 1);
                    continue;
                }

                var peer = lastPeer is not null && lastPeer.Key.Capture == message.To
                    ? lastPeer
                    : _transport.Find(new EndpointKey(message.To, Key.Changefeed, peerRole));
                switch (peer?._inbox.TryAdd(message) ?? InboxResult.Closed)
                {
                    case InboxResult.Accepted:
                        accepted++;
                        lastPeer = peer;
                        Add(Tally.Delivered, 1);
                        break;
                    case InboxResult.Full:
                        Add(Tally.RefusedInboxFull, 1);
                        break;
                    default:
                        lastPeer = null;
                        Add(Tally.RefusedUnknownPeer, 1);
                        break;
                }
            }

            return accepted;
        }

        public void Dispose()
        {
            if (_inbox.Close())
            {
                _transport.Unregister(this);
            }
        }

        public override string ToString() => Key.ToString();

        /// <summary>Counts for this endpoint and for the transport's totals.</summary>
        private void Add(Tally tally, long count)
        {
            Interlocked.Add(ref _tallies[(int)tally], count);
            Interlocked.Add(ref _transport._tallies[(int)tally], count);
        }
    }

    /// <summary>What an endpoint counts (index into its tallies), in <see cref="TransportCounters"/> order.</summary>
    private enum Tally
    {
        Delivered,
        RefusedUnknownPeer,
        RefusedInboxFull,
        RefusedSenderClosed,
        DroppedByFilter,
        Received,
        Count,
    }
}

/// <summary>Implemented by endpoints that count what they did (cast an <see cref="IMessageEndpoint"/> to read them).</summary>
public interface IEndpointCounters
{
    /// <summary>This endpoint's counts (Delivered and refusals for what it sent; Received for what it took).</summary>
    TransportCounters Counters { get; }
}
