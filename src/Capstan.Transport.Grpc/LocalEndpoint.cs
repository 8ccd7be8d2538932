namespace Capstan.Transport.Grpc;

using Capstan.Core.Model;
using Capstan.Core.Protocol;
using Capstan.Runtime.Transport;

/// <summary>The (changefeed, role) an endpoint of this capture listens on.</summary>
internal readonly record struct EndpointKey(ChangefeedId Changefeed, TransportRole Role)
{
    public override string ToString() => $"{Changefeed}/{Role}";
}

/// <summary>
/// One endpoint of the local capture: a bounded inbox filled by the server (remote messages) and by
/// the in-process self path, drained by its host loop with <see cref="Receive"/>.
/// </summary>
/// <remarks>
/// The inbox is a <see cref="MessageInbox"/> (double-buffered: a steady-state receive allocates
/// nothing; the returned list is valid until the next call). One reader (the host loop); any
/// number of writers.
/// </remarks>
internal sealed class LocalEndpoint : IMessageEndpoint
{
    private readonly GrpcTransport _transport;
    private readonly MessageInbox _inbox;

    public LocalEndpoint(GrpcTransport transport, EndpointKey key, int capacity)
    {
        _transport = transport;
        Key = key;
        _inbox = new MessageInbox(capacity, RaiseMessagesArrived);
    }

    /// <inheritdoc/>
    public event Action? MessagesArrived;

    /// <summary>The changefeed and role this endpoint receives for.</summary>
    public EndpointKey Key { get; }

    /// <summary>True after <see cref="Dispose"/>.</summary>
    public bool IsClosed => _inbox.IsClosed;

    /// <inheritdoc/>
    public IReadOnlyList<Message> Receive()
    {
        var taken = _inbox.TakeAll();
        _transport.Cells.Add(Counter.Taken, taken.Count);
        return taken;
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
        if (_inbox.Close())
        {
            _transport.Unregister(this);
        }
    }

    /// <summary>Puts one message into the inbox.</summary>
    public InboxResult TryDeliver(Message message) => _inbox.TryAdd(message);

    /// <summary>
    /// Puts as many of <paramref name="messages"/> as fit into the inbox, in order; returns how many
    /// (the rest are refused), or -1 when the endpoint is closed.
    /// </summary>
    public int TryDeliver(List<Message> messages) => _inbox.TryAddRange(messages);

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
