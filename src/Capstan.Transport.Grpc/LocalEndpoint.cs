namespace Capstan.Transport.Grpc;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Runtime.Transport;

/// <summary>The (changefeed, role) an endpoint of this capture listens on.</summary>
internal readonly record struct EndpointKey(ChangefeedId Changefeed, TransportRole Role)
{
    public override string ToString() => $"{Changefeed}/{Role}";
}

/// <summary>How an inbox took a message.</summary>
internal enum DeliveryResult
{
    Accepted,
    InboxFull,
    Closed,
}

/// <summary>
/// One endpoint of the local capture: a bounded inbox filled by the server (remote messages) and by
/// the in-process self path, drained by its host loop with <see cref="Receive"/>.
/// </summary>
/// <remarks>
/// The inbox is double-buffered: <see cref="Receive"/> swaps the filled list for the one it handed
/// out last time, so a steady-state receive allocates nothing. The returned list is valid until the
/// next call. One reader (the host loop); any number of writers.
/// </remarks>
internal sealed class LocalEndpoint : IMessageEndpoint
{
    private readonly GrpcTransport _transport;
    private readonly int _capacity;
    private readonly object _gate = new();
    private List<Message> _incoming = [];
    private List<Message> _handedOut = [];
    private bool _closed;

    public LocalEndpoint(GrpcTransport transport, EndpointKey key, int capacity)
    {
        _transport = transport;
        Key = key;
        _capacity = capacity;
    }

    /// <inheritdoc/>
    public event Action? MessagesArrived;

    /// <summary>The changefeed and role this endpoint receives for.</summary>
    public EndpointKey Key { get; }

    /// <summary>True after <see cref="Dispose"/>.</summary>
    public bool IsClosed => Volatile.Read(ref _closed);

    /// <inheritdoc/>
    public IReadOnlyList<Message> Receive()
    {
        lock (_gate)
        {
            _handedOut.Clear();
            (_incoming, _handedOut) = (_handedOut, _incoming);
        }

        _transport.Cells.Add(Counter.Taken, _handedOut.Count);
        return _handedOut;
    }

    /// <inheritdoc/>
    public int Send(IReadOnlyList<Message> messages)
    {
        ArgumentNullException.ThrowIfNull(messages);
        if (IsClosed)
        {
            _transport.Cells.Add(Counter.RefusedSenderClosed, messages.Count);
            return 0;
        }

        return _transport.SendFrom(Key, messages);
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            _incoming.Clear();
        }

        _transport.Unregister(this);
    }

    /// <summary>Puts one message into the inbox.</summary>
    public DeliveryResult TryDeliver(Message message)
    {
        bool wasEmpty;
        lock (_gate)
        {
            if (_closed)
            {
                return DeliveryResult.Closed;
            }

            if (_incoming.Count >= _capacity)
            {
                return DeliveryResult.InboxFull;
            }

            wasEmpty = _incoming.Count == 0;
            _incoming.Add(message);
        }

        if (wasEmpty)
        {
            RaiseMessagesArrived();
        }

        return DeliveryResult.Accepted;
    }

    /// <summary>
    /// Puts as many of <paramref name="messages"/> as fit into the inbox, in order; returns how many
    /// (the rest are refused), or -1 when the endpoint is closed.
    /// </summary>
    public int TryDeliver(List<Message> messages)
    {
        int taken;
        bool wasEmpty;
        lock (_gate)
        {
            if (_closed)
            {
                return -1;
            }

            taken = Math.Min(messages.Count, _capacity - _incoming.Count);
            wasEmpty = _incoming.Count == 0;
            for (int index = 0; index < taken; index++)
            {
                _incoming.Add(messages[index]);
            }
        }

        if (wasEmpty && taken > 0)
        {
            RaiseMessagesArrived();
        }

        return taken;
    }

    /// <summary>Runs the subscribers; a throwing subscriber is logged, never propagated into the sender or the server.</summary>
    private void RaiseMessagesArrived()
    {
        try
        {
            MessagesArrived?.Invoke();
        }
        catch (Exception error)
        {
            _transport.Log.SubscriberFailed(Key.ToString(), error);
        }
    }

    public override string ToString() => Key.ToString();
}
